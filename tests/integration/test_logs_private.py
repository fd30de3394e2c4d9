"""Logs carry no personal data: the scenarios are replayed over HTTP (and one message with an
e-mail address and a phone number), and every log line of every logger is scanned for the
users' words, e-mail addresses and phone numbers."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
import yaml
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT
from connectors.web.app import RedactingAccessFilter, create_app

SCENARIOS = sorted((REPO_ROOT / "tests" / "scenarios").glob("*.yaml"))[:12]
PRIVATE = (
    "Je suis Jeanne Martin, joignable au 06 12 34 56 78 ou jeanne.martin@example.org, à Guéret"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
# Not inside a longer token: an object's hex address ("0x7f0848002890") is no phone number.
_PHONE = re.compile(r"(?<!\w)0\d(?:[\s.]?\d{2}){4}(?!\w)")


def _line(record: logging.LogRecord) -> str:
    """The whole record as a log handler could write it: message, arguments and extras."""
    standard = set(vars(logging.makeLogRecord({})))
    extras = {k: v for k, v in vars(record).items() if k not in standard}
    return f"{record.getMessage()} {extras} {record.exc_text or ''}"


def _turns(path: Path) -> list[str]:
    return [str(t) for t in yaml.safe_load(path.read_text(encoding="utf-8"))["turns"]]


def test_no_user_text_email_or_phone_in_any_log_line(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    access = logging.getLogger("uvicorn.access")
    redact = RedactingAccessFilter()
    access.addFilter(redact)  # as `aiguillage serve` installs it
    sent: list[str] = []
    try:
        with (
            caplog.at_level(logging.DEBUG),
            running_server(create_app(runtime)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
            for path in SCENARIOS:
                session = client.post("/api/sessions").json()["session_id"]
                for text in [*_turns(path), PRIVATE]:
                    reply = client.post(f"/api/sessions/{session}/messages", json={"text": text})
                    assert reply.status_code == 200
                    sent.append(text)
                client.delete(f"/api/sessions/{session}")
            client.post("/api/ask", json={"text": PRIVATE})
            client.post("/api/adviser", json={"text": PRIVATE})
    finally:
        access.removeFilter(redact)

    lines = [_line(r) for r in caplog.records]
    assert lines, "the test saw no log line at all: it would prove nothing"
    for line in lines:
        assert not _EMAIL.search(line), line
        assert not _PHONE.search(line), line
        for text in sent:
            # A whole message, or any long run of its words, must never be logged.
            words = text.split()
            for start in range(max(1, len(words) - 4)):
                run = " ".join(words[start : start + 5])
                assert len(run) < 20 or run not in line, (run, line)
