"""Free questions over HTTP (/api/ask, /api/ask/stream as server-sent events) and the bare
/api/echo baseline, against a real uvicorn server on 127.0.0.1; in LLM mode, against the local
OpenAI-compatible fake (tests/fake_openai.py) through the real langchain-openai client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import fake_openai as fake_module
import httpx
import pytest
from fake_openai import FakeOpenAI, fake_openai
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import Settings
from connectors.web.app import SECURITY_HEADERS, create_app

pytestmark = pytest.mark.timeout(60)

IN_SCOPE = "Comment obtenir l'agrément ESUS ?"
LLM_QUESTION = "ou trouver un mentor benevole pr mon projet social"
OUT_OF_SCOPE = "Qui a gagné la coupe du monde de football 2018 ?"  # no card, no limit
ANSWER_KEYS = {"answer", "sources", "declined", "confidence"}

Event = tuple[str, dict[str, Any]]


def read_events(client: httpx.Client, text: str) -> list[Event]:
    """The events of one /api/ask/stream response, in order, each as (name, JSON data)."""
    events: list[Event] = []
    with client.stream("POST", "/api/ask/stream", json={"text": text}) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        name, data = "", []
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
            elif not line and name:
                events.append((name, json.loads("\n".join(data))))
                name, data = "", []
    return events


def assert_answer(payload: dict[str, Any]) -> None:
    assert payload.keys() >= ANSWER_KEYS
    assert isinstance(payload["answer"], str) and payload["answer"]
    for source in payload["sources"]:
        assert {"id", "title", "kind", "origin", "documents", "urls"} <= source.keys()


# --------------------------------------------------------------------------- deterministic


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with (
        running_server(create_app(runtime)) as url,
        httpx.Client(base_url=url, timeout=30) as c,
    ):
        yield c


def test_ask_is_the_cli_json_object(client: httpx.Client, runtime: Runtime) -> None:
    response = client.post("/api/ask", json={"text": IN_SCOPE})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert_answer(payload)
    assert payload["declined"] is False
    assert payload["sources"][0]["id"] == "agrement-esus"
    # The same object `aiguillage ask --json` prints (both call Answerer.answer).
    assert payload == runtime.answerer.answer(IN_SCOPE).model_dump(mode="json")


def test_ask_declines_out_of_scope(client: httpx.Client) -> None:
    payload = client.post("/api/ask", json={"text": OUT_OF_SCOPE}).json()
    assert payload["declined"] is True and payload["sources"] == []
    # nothing found, or read by its meaning as a question to decline (declines.yaml)
    assert payload["limit"] in {None, "par-le-sens"}
    assert "de réponse fiable" in payload["answer"] or "de façon fiable" in payload["answer"]


def test_stream_without_llm_is_one_final_event(client: httpx.Client, runtime: Runtime) -> None:
    events = read_events(client, IN_SCOPE)
    assert [name for name, _ in events] == ["final"]
    final = events[0][1]
    assert_answer(final)
    assert final["sources"] and final["sources"][0]["id"] == "agrement-esus"
    assert final["fallback"] is None
    # The whole /api/ask object (now with `body`), plus `fallback`.
    expected = runtime.answerer.answer(IN_SCOPE).model_dump(mode="json")
    assert {k: v for k, v in final.items() if k != "fallback"} == expected


def test_stream_without_llm_declines(client: httpx.Client) -> None:
    events = read_events(client, OUT_OF_SCOPE)
    assert [name for name, _ in events] == ["final"]
    assert events[0][1]["declined"] is True and events[0][1]["sources"] == []


def test_echo(client: httpx.Client) -> None:
    text = "Bonjour « Guéret » \n 4 salariés"
    assert client.post("/api/echo", json={"text": text}).json() == {"text": text}
    assert client.get("/api/echo", params={"text": text}).json() == {"text": text}
    assert client.get("/api/echo").json() == {"text": ""}
    response = client.get("/api/echo")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    schema = client.get("/openapi.json").json()
    for path in ("/api/ask", "/api/ask/stream", "/api/echo"):
        assert path in schema["paths"]
    assert schema["paths"]["/api/echo"]["post"]["tags"] == ["service"]


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream", "/api/echo"])
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'{"text": ""}', id="empty"),
        pytest.param(b'{"text": "  \\n "}', id="blank"),
        pytest.param(b"too-long", id="too-long"),
        pytest.param(b'{"text": "Bonjour"', id="json"),
        pytest.param(b"{}", id="missing-text"),
        pytest.param(b'{"text": 42}', id="number"),
        pytest.param(b"", id="empty-body"),
    ],
)
def test_bad_input_is_422(
    client: httpx.Client, settings: Settings, path: str, content: bytes
) -> None:
    if content == b"too-long":
        content = json.dumps({"text": "a" * (settings.max_message_chars + 1)}).encode()
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail


def test_echo_get_too_long_is_422(client: httpx.Client, settings: Settings) -> None:
    response = client.get("/api/echo", params={"text": "a" * (settings.max_message_chars + 1)})
    assert response.status_code == 422
    assert response.json()["detail"]


def test_oversized_body_is_413(client: httpx.Client, settings: Settings) -> None:
    content = b'{"text": "' + b"a" * (settings.max_message_chars * 8 + 64 * 1024) + b'"}'
    for path in ("/api/ask", "/api/ask/stream", "/api/echo"):
        response = client.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code == 413, path


# --------------------------------------------------------------------------- with an LLM


@pytest.fixture(scope="module")
def openai_server() -> Iterator[FakeOpenAI]:
    pytest.importorskip("langchain_openai")
    with fake_openai() as running:
        yield running


@pytest.fixture(scope="module")
def llm_client(
    openai_server: FakeOpenAI, runtime: Runtime, settings: Settings
) -> Iterator[httpx.Client]:
    configured = settings.model_copy(
        update={
            "llm_provider": "openai-compatible",
            "llm_base_url": openai_server.base_url,
            "llm_model": "fake-extractive",
            "llm_timeout_seconds": 3.0,
        }
    )
    llm_runtime = Runtime(configured, embedder=runtime.embedder)  # the real client
    with (
        running_server(create_app(llm_runtime)) as url,
        httpx.Client(base_url=url, timeout=30) as c,
    ):
        yield c


@pytest.fixture()
def fake(openai_server: FakeOpenAI) -> FakeOpenAI:
    openai_server.mode = "ok"
    openai_server.requests.clear()
    return openai_server


def multiline_reply(body: dict[str, Any]) -> str:
    """The fake's reply, ended by a newline as real models' replies often are: the guard
    releases complete lines only, and the fake writes a single line without one."""
    reply = REPLY_FOR(body)
    return reply + "\n" if "<passages>" in str(body.get("messages", "")) else reply


REPLY_FOR = fake_module.reply_for


@pytest.mark.e2e
def test_llm_stream_deltas_then_a_cited_final(
    llm_client: httpx.Client, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_module, "reply_for", multiline_reply)
    events = read_events(llm_client, LLM_QUESTION)
    names = [name for name, _ in events]
    assert names[-1] == "final" and names.count("final") == 1
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert deltas and names[: len(deltas)] == ["delta"] * len(deltas)
    assert all(text.endswith("\n") for text in deltas)
    final = events[-1][1]
    assert_answer(final)
    assert final["fallback"] is None and final["declined"] is False
    assert final["sources"] and "[1]" in final["answer"] and "Sources :" in final["answer"]
    assert final["sources"][0]["title"] in final["answer"]
    assert deltas[0].strip() in final["answer"]  # the deltas are the final answer's body
    assert fake.requests and fake.requests[-1].get("stream") is True


@pytest.mark.e2e
def test_llm_stream_falls_back_when_the_model_fails(
    llm_client: httpx.Client, fake: FakeOpenAI
) -> None:
    fake.mode = "rate_limit"
    events = read_events(llm_client, LLM_QUESTION)
    assert [name for name, _ in events] == ["final"]
    final = events[0][1]
    assert final["fallback"] == "rate_limited"
    assert final["declined"] is False and final["sources"]


@pytest.mark.e2e
def test_llm_stream_declines_without_calling_the_model(
    llm_client: httpx.Client, fake: FakeOpenAI
) -> None:
    events = read_events(llm_client, OUT_OF_SCOPE)
    assert [name for name, _ in events] == ["final"]
    assert events[0][1]["declined"] is True
    assert fake.requests == []


@pytest.mark.e2e
def test_llm_ask_cites_sources(llm_client: httpx.Client, fake: FakeOpenAI) -> None:
    response = llm_client.post("/api/ask", json={"text": LLM_QUESTION})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert_answer(payload)
    assert payload["sources"] and "[1]" in payload["answer"]
    assert fake.requests


@pytest.mark.e2e
def test_llm_stream_bad_input_is_422(llm_client: httpx.Client, fake: FakeOpenAI) -> None:
    for content in (b'{"text": ""}', b"{}", b'{"text": 1}'):
        response = llm_client.post(
            "/api/ask/stream", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, response.text
    assert fake.requests == []
