"""Floods and bots: a client that sends too much gets 429 in French with Retry-After, while
another client is served; Telegram drops a flooding chat's messages and says so once."""

from __future__ import annotations

import httpx
import pytest
from webserver import running_server

from assistant.runtime import Runtime
from assistant.settings import Settings
from connectors.ratelimit import RateLimiter
from connectors.web.app import create_app

LIMIT = 5


@pytest.fixture(scope="module")
def limited(runtime: Runtime) -> Runtime:
    settings = runtime.settings.model_copy(update={"rate_limit": f"{LIMIT}/minute"})
    return Runtime(settings, embedder=runtime.embedder)


def _client(url: str, address: str) -> httpx.Client:
    # Loopback answers on all of 127.0.0.0/8: a second source address is a second client.
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address))


def test_a_flood_is_answered_429_while_another_client_is_served(limited: Runtime) -> None:
    with (
        running_server(create_app(limited)) as url,
        _client(url, "127.0.0.1") as flooder,
        _client(url, "127.0.0.2") as other,
    ):
        session = flooder.post("/api/sessions").json()["session_id"]
        statuses = [
            flooder.post(f"/api/sessions/{session}/messages", json={"text": "Guéret"})
            for _ in range(LIMIT + 3)
        ]
        # The session creation counted too: LIMIT - 1 messages pass, then 429.
        assert [r.status_code for r in statuses] == [200] * (LIMIT - 1) + [429] * 4
        refused = statuses[-1]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "attendez" in refused.json()["detail"]
        assert flooder.post("/api/ask", json={"text": "c'est quoi le DLA ?"}).status_code == 429
        # Another client is not affected.
        own = other.post("/api/sessions").json()["session_id"]
        answer = other.post(f"/api/sessions/{own}/messages", json={"text": "Guéret"})
        assert answer.status_code == 200 and answer.json()["reply"]
        # Reading is not limited: the flooder can still see its session.
        assert flooder.get(f"/api/sessions/{session}").status_code == 200


def test_the_no_js_page_says_it_in_french(limited: Runtime) -> None:
    with running_server(create_app(limited)) as url, _client(url, "127.0.0.3") as client:
        for _ in range(LIMIT):
            client.post("/chat", data={"text": "Guéret"})
        refused = client.post("/chat", data={"text": "Guéret"})
        assert refused.status_code == 303 and "erreur=trop" in refused.headers["location"]
        page = client.get(refused.headers["location"])
        assert "beaucoup de messages" in page.text


def test_limits_are_checked_when_settings_load() -> None:
    assert Settings(rate_limit="10/minute;100/hour").rate_limit
    with pytest.raises(ValueError, match="rate_limit"):
        Settings(rate_limit="beaucoup")


def test_several_limits_all_hold() -> None:
    limiter = RateLimiter("2/minute;3/hour")
    assert [limiter.wait("c") for _ in range(3)][:2] == [0, 0]
    assert limiter.wait("c") > 0
    assert limiter.wait("d") == 0
