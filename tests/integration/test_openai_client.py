"""The official ``openai`` package against ``/v1``: cited answers, streaming and not."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from tests.integration.server import Server

pytestmark = pytest.mark.integration

QUESTION = "Who led the Chinese delegation to the parade?"


@pytest.fixture
def openai_client(server: Server) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)


def test_models_lists_the_service(openai_client: OpenAI) -> None:
    assert [m.id for m in openai_client.models.list()] == ["grounded-rag"]


def test_models_retrieve_by_id(openai_client: OpenAI) -> None:
    m = openai_client.models.retrieve("grounded-rag")
    assert m.id == "grounded-rag" and m.object == "model"
    with pytest.raises(openai.NotFoundError) as e:
        openai_client.models.retrieve("gpt-4o")
    assert e.value.status_code == 404 and "gpt-4o" in str(e.value)


def test_completion_carries_markers_and_sources(openai_client: OpenAI) -> None:
    r = openai_client.chat.completions.create(model="grounded-rag", messages=[{"role": "user", "content": QUESTION}])
    content = r.choices[0].message.content or ""
    assert "Liu Guozhong" in content and "[1]" in content
    assert r.choices[0].finish_reason == "stop"
    citations = (r.model_extra or {})["citations"]
    assert citations[0]["n"] == 1 and citations[0]["doc_id"] == "000_d024cab3850fab44"


def test_streaming_ends_with_the_sources(openai_client: OpenAI) -> None:
    stream = openai_client.chat.completions.create(
        model="grounded-rag", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3 and "Liu Guozhong" in text and "[1]" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["text"] in text


def test_streaming_with_include_usage_ends_with_the_usage(openai_client: OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": QUESTION}]
    stream = openai_client.chat.completions.create(
        model="grounded-rag", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    *body, last = chunks
    assert last.choices == [] and last.usage is not None
    assert body[-1].choices[0].finish_reason == "stop" and all(c.usage is None for c in body)
    whole = openai_client.chat.completions.create(model="grounded-rag", messages=messages)
    assert whole.usage is not None and last.usage.completion_tokens > 0
    assert last.usage.model_dump() == whole.usage.model_dump()


def test_n_above_one_is_refused(openai_client: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError, match="only n=1"):
        openai_client.chat.completions.create(
            model="grounded-rag", messages=[{"role": "user", "content": QUESTION}], n=2
        )


def test_follow_up_through_the_openai_api(openai_client: OpenAI) -> None:
    r = openai_client.chat.completions.create(
        model="grounded-rag",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What was the purpose of the parade?"},
            {"role": "assistant", "content": "To celebrate the 75th founding anniversary. [1]"},
            {"role": "user", "content": "And who led the Chinese delegation?"},
        ],
    )
    assert "Liu Guozhong" in (r.choices[0].message.content or "")
