"""Rate limits (429, Retry-After, the error shape, per key or address) and API keys (several, constant time)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import KeyRing
from api.ratelimit import is_loopback
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.fakes import HashEmbedder
from tests.texts import CATS, plain_article

DOC = {"title": "Turnips", "text": "Zorblax turnips glow violet at night."}


@pytest.fixture
def pipeline(settings: Settings, fake_embedder: HashEmbedder) -> Pipeline:
    p = Pipeline(settings, fake_embedder)
    p.update(upsert=[plain_article("cats", CATS)])
    return p


def app_with(pipeline: Pipeline, **changes: object) -> TestClient:
    return TestClient(create_app(pipeline.settings.replace(**changes), pipeline))


def test_over_the_limit_is_a_429_with_retry_after_in_the_error_shape(pipeline: Pipeline) -> None:
    with app_with(pipeline, rate_limit="3/minute") as c:  # TestClient's address, "testclient", is no loopback
        assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        for path in ("/healthz", "/documents", "/openapi.json", "/static/app.js", "/no-such-route"):
            r = c.get(path)
            assert r.status_code == 429, path  # every route, known or not
        assert r.json()["error"]["code"] == "too_many_requests"
        assert "3 per minute" in r.json()["error"]["message"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        r = c.post("/ask", json={"question": "What do cats hunt?"})
        assert r.status_code == 429 and r.headers["content-type"] == "application/json"


def test_each_key_and_each_address_has_its_own_budget(pipeline: Pipeline) -> None:
    with app_with(pipeline, rate_limit="2/minute", api_keys=["k1", "k2"]) as c:
        k1, k2 = {"Authorization": "Bearer k1"}, {"Authorization": "Bearer k2"}
        assert [c.get("/healthz", headers=k1).status_code for _ in range(3)] == [200, 200, 429]
        assert c.get("/healthz", headers=k2).status_code == 200  # another key: its own budget
        assert c.get("/healthz").status_code == 200  # no key: the address's budget, untouched by k1's
        # an invented key counts as no key: inventing keys buys no fresh budget
        assert c.get("/healthz", headers={"Authorization": "Bearer made-up"}).status_code == 200
        assert c.get("/healthz", headers={"Authorization": "Bearer made-up-2"}).status_code == 429


def test_writes_have_a_tighter_limit_on_top(pipeline: Pipeline) -> None:
    with app_with(pipeline, rate_limit="100/minute", rate_limit_writes="1/minute") as c:
        assert c.post("/documents", json=DOC).status_code == 201
        r = c.post("/documents", json=DOC)
        assert r.status_code == 429 and "1 per minute" in r.json()["error"]["message"]
        assert c.delete("/documents/turnips").status_code == 429
        assert c.get("/documents/turnips").status_code == 200  # reads are not writes


def test_limits_can_be_turned_off(pipeline: Pipeline) -> None:
    with app_with(pipeline, rate_limit="off", rate_limit_writes="off") as c:
        assert {c.get("/healthz").status_code for _ in range(200)} == {200}


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True),
                                                 ("10.0.0.1", False), ("192.168.1.2", False), ("testclient", False),
                                                 ("", False)])
def test_loopback_clients(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_loopback_clients_are_limited_only_when_asked(pipeline: Pipeline) -> None:
    for limited in (False, True):
        app = create_app(pipeline.settings.replace(rate_limit="1/minute", rate_limit_loopback=limited), pipeline)
        with TestClient(app, client=("127.0.0.1", 50000)) as c:
            codes = [c.get("/healthz").status_code for _ in range(3)]
        assert codes == ([200, 429, 429] if limited else [200, 200, 200])


def test_several_keys_each_open_the_write_routes(pipeline: Pipeline) -> None:
    with app_with(pipeline, api_keys=["first-key", "second-key"]) as c:
        for key in ("first-key", "second-key"):
            r = c.post("/documents", json={**DOC, "doc_id": key}, headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 201, r.text
        for auth in ("Bearer first-ke", "Bearer first-key-", "Bearer FIRST-KEY", "first-key", "Bearer "):
            r = c.post("/documents", json=DOC, headers={"Authorization": auth})
            assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer", auth
            assert "first-key" not in r.text


def test_the_key_ring_compares_digests_against_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing(["alpha", "beta", "gamma"])
    assert [ring.match(t) for t in ("alpha", "beta", "gamma", "delta", "", "alph")] == [0, 1, 2, None, None, None]
    compared: list[tuple[bytes, bytes]] = []
    import hmac

    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    ring.match("alpha")  # a match on the first key still compares with all three: time says nothing of which
    assert len(compared) == 3 and {len(a) for a, _ in compared} == {len(b) for _, b in compared} == {32}


def test_the_schema_asks_for_a_key_only_when_keys_are_set(pipeline: Pipeline) -> None:
    for keys, secured in (([], False), (["k"], True)):
        with app_with(pipeline, api_keys=keys) as c:
            schema = c.get("/openapi.json").json()
        post = schema["paths"]["/documents"]["post"]
        assert ("security" in post) is secured and ("401" in post["responses"]) is secured
        assert "security" not in schema["paths"]["/ask"]["post"]
        assert "429" in post["responses"] and "Retry-After" in post["responses"]["429"]["headers"]


def test_rates_are_checked_when_settings_load() -> None:
    with pytest.raises(ValueError, match="no rate"):
        Settings(rate_limit="fast")
    assert Settings(rate_limit="").server.rate_limit is None
