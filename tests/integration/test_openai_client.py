"""The official ``openai`` package against ``/v1``: cited answers, streaming and not."""

from __future__ import annotations

import pytest
from openai import OpenAI

from tests.integration.conftest import Server

pytestmark = pytest.mark.integration

QUESTION = "Who led the Chinese delegation to the parade?"


@pytest.fixture
def openai_client(server: Server) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)


def test_models_lists_the_service(openai_client: OpenAI) -> None:
    assert [m.id for m in openai_client.models.list()] == ["grounded-rag"]


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
