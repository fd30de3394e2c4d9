"""The real langchain-openai client against a local OpenAI-compatible server (tests/fake_openai.py).

Chat completions with and without streaming, structured extraction, failures that fall back,
`doctor`, and scripts/compare_modes.py, all on 127.0.0.1 and the real index.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator

import pytest
from fake_openai import FakeOpenAI, fake_openai

from assistant.answers.answering import Answerer
from assistant.dialogue.state import DiagnosticState
from assistant.llm.answering import LLMAnswerer
from assistant.llm.chat import check_endpoint
from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT, Settings

pytest.importorskip("langchain_openai")
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

QUESTION = "ou trouver un mentor benevole pr mon projet social"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


@pytest.fixture(scope="module")
def configured_runtime(server: FakeOpenAI, runtime: Runtime, settings: Settings) -> Runtime:
    configured = settings.model_copy(
        update={
            "llm_provider": "openai-compatible",
            "llm_base_url": server.base_url,
            "llm_model": "fake-extractive",
            "llm_timeout_seconds": 3.0,
        }
    )
    return Runtime(configured, embedder=runtime.embedder)  # the real client, from settings


@pytest.fixture()
def llm_runtime(configured_runtime: Runtime, server: FakeOpenAI) -> Runtime:
    server.mode = "ok"
    server.requests.clear()
    return configured_runtime


def test_doctor_reaches_the_endpoint(llm_runtime: Runtime, server: FakeOpenAI) -> None:
    status = check_endpoint(llm_runtime.settings)
    assert status.mode == "llm" and status.ok, status.problem
    assert type(llm_runtime.llm.model).__name__ == "ChatOpenAI"  # type: ignore[union-attr]


def test_a_grounded_answer_through_the_real_client(
    llm_runtime: Runtime, server: FakeOpenAI
) -> None:
    answerer = llm_runtime.answerer
    assert isinstance(answerer, LLMAnswerer)
    answer = answerer.answer(QUESTION)
    assert not answer.declined
    assert "[1]" in answer.answer and "Sources :" in answer.answer
    assert answer.sources
    assert server.requests[-1]["stream"] is False if "stream" in server.requests[-1] else True


def test_streaming_through_the_real_client(llm_runtime: Runtime, server: FakeOpenAI) -> None:
    answerer = llm_runtime.answerer
    assert isinstance(answerer, LLMAnswerer)
    events = list(answerer.stream(QUESTION))
    final = events[-1]
    assert final.kind == "final" and final.fallback is None and final.answer is not None
    assert "[1]" in final.answer.answer
    assert server.requests[-1].get("stream") is True


def test_structured_extraction_through_the_real_client(
    llm_runtime: Runtime, server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    turn = llm_runtime.engine.handle(
        DiagnosticState(), "Bonjour, on est une asso à Guéret et on cherche des financements"
    )
    assert "financement" in turn.state.needs
    assert any("response_format" in r or "tools" in r for r in server.requests)
    assert "llm extraction merged" in caplog.text
    assert "extraction skipped" not in caplog.text


@pytest.mark.parametrize(("mode", "reason"), [("rate_limit", "rate_limited"), ("hang", "timeout")])
def test_failures_fall_back_within_the_budget(
    llm_runtime: Runtime,
    runtime: Runtime,
    server: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    reason: str,
) -> None:
    server.mode = mode
    server.hang_seconds = 6.0
    started = time.perf_counter()
    deterministic = runtime.answerer.answer(QUESTION)
    retrieval_and_composition = time.perf_counter() - started
    assert type(runtime.answerer) is Answerer
    answerer = llm_runtime.answerer
    started = time.perf_counter()
    answer = answerer.answer(QUESTION)
    # The model's budget (3 s) on top of what the deterministic path costs anyway.
    assert time.perf_counter() - started < 3.0 + retrieval_and_composition + 1.0
    assert answer.answer == deterministic.answer
    assert f"reason={reason}" in caplog.text
    assert QUESTION not in caplog.text


def test_compare_modes_against_the_local_server(
    server: FakeOpenAI,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.mode = "ok"
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    for key, value in {
        "AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir),
        "AIGUILLAGE_DATABASE_URL": runtime.settings.sessions_url,
        "AIGUILLAGE_LLM_PROVIDER": "openai-compatible",
        "AIGUILLAGE_LLM_BASE_URL": server.base_url,
        "AIGUILLAGE_LLM_MODEL": "fake-extractive",
        "AIGUILLAGE_LLM_TIMEOUT_SECONDS": "3",
    }.items():
        monkeypatch.setenv(key, value)
    import compare_modes

    code = compare_modes.main(["--limit", "3", "--scenario-limit", "2"], embedder=runtime.embedder)
    out = capsys.readouterr().out
    sys.stderr.write(out)  # visible with -s: the side-by-side table
    assert code == 0
    assert "answer hit rate (n=3)" in out and "scenarios passed (n=2)" in out
    assert "LLM outcomes:" in out and "llm=" in out
