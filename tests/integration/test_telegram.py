"""The Telegram connector against a fake Bot API server: the real python-telegram-bot
Application polls it over HTTP, and the tests assert on what the bot sent.

The fake server (starlette + uvicorn, in a thread, on a free 127.0.0.1 port) implements the
Bot API methods PTB calls here, records every call, and stops itself after a deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import Bot
from telegram.helpers import escape_markdown
from typer.testing import CliRunner

from assistant.errors import SessionNotFoundError
from assistant.render.parts import AnswerPart, ContactsPart, GuidesPart
from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT, Settings
from connectors.base import CollectingOutput, Reply, deliver
from connectors.cli.main import app as cli_app
from connectors.telegram.bot import (
    APOLOGY,
    NOT_TEXT,
    SECRET_HEADER,
    STALE_BUTTON,
    UNKNOWN_COMMAND,
    QuickReplyButtons,
    TelegramApp,
    TelegramOutput,
    build_application,
    render_chunks,
    session_id_for,
    split_text,
    utf16_len,
    webhook_router,
)

TOKEN = "123456:TEST-fake-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Aiguillage", "username": "aiguillage_bot"}
SERVER_DEADLINE = 60.0  # the fake server stops itself after this, whatever happens
JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "link_preview_options", "scope"}
MDV2_SPECIAL = set("_*[]()~`>#+-=|{}.!")


# -- the fake Bot API server -------------------------------------------------------------------


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    result: Any = None


class FakeBotApi:
    """Serves queued updates to getUpdates and answers the send/edit methods like Telegram."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._next_update = 1
        self._next_message = 5000
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._timer = threading.Timer(SERVER_DEADLINE, self.stop)
        self._timer.daemon = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self) -> FakeBotApi:
        self._thread.start()
        self._timer.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake Bot API server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._timer.cancel()
        self._server.should_exit = True
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    # -- test side -------------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> int:
        with self._lock:
            update_id = self._next_update
            self._next_update += 1
            self._updates.append({"update_id": update_id, **update})
        return update_id

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[since:] if c.method == method]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    async def wait_for(
        self,
        method: str,
        since: int = 0,
        where: Callable[[Call], bool] = lambda call: True,
        timeout: float = 15.0,
    ) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in self.calls_of(method, since):
                if where(call):
                    return call
            await asyncio.sleep(0.03)
        seen = [c.method for c in self.calls[since:]]
        raise AssertionError(f"no {method} received in {timeout}s; got {seen}")

    # -- server side -----------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        async with request.form() as form:  # closes uploaded files' temporary storage
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = (value.filename or "", await value.read())
                elif key in JSON_FIELDS:
                    params[key] = json.loads(value)
                else:
                    params[key] = value
        call = Call(method, params, files)
        with self._lock:
            self.calls.append(call)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        result = await handler(params, files)
        if isinstance(result, JSONResponse):
            return result
        call.result = result
        return JSONResponse({"ok": True, "result": result})

    def _message(self, chat_id: Any, **fields: Any) -> dict[str, Any]:
        with self._lock:
            self._next_message += 1
            message_id = self._next_message
        chat = {"id": int(chat_id), "type": "private", "first_name": "Test"}
        return {"message_id": message_id, "date": int(time.time()), "chat": chat,
                "from": BOT_USER, **fields}  # fmt: skip

    async def _api_getMe(self, params: dict[str, Any], files: Any) -> Any:
        return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    async def _api_getUpdates(self, params: dict[str, Any], files: Any) -> Any:
        offset = int(params.get("offset", 0) or 0)
        # A long poll, kept short so that tests and shutdown stay fast.
        wait = min(float(params.get("timeout", 0) or 0), 0.5)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates[: int(params.get("limit", 100) or 100)])
            if ready or time.monotonic() >= deadline or self._server.should_exit:
                return ready
            await asyncio.sleep(0.02)

    async def _api_sendMessage(self, params: dict[str, Any], files: Any) -> Any:
        if not params.get("text"):
            return _error(400, "Bad Request: message text is empty")
        if utf16_len(params["text"]) > 4096:
            return _error(400, "Bad Request: message is too long")
        if params.get("parse_mode") == "MarkdownV2" and markdown_v2_errors(params["text"]):
            return _error(400, "Bad Request: can't parse entities")
        extra = {"reply_markup": params["reply_markup"]} if "reply_markup" in params else {}
        return self._message(params["chat_id"], text=params["text"], **extra)

    async def _api_sendDocument(self, params: dict[str, Any], files: Any) -> Any:
        name, _content = files["document"]
        document = {"file_id": "doc-1", "file_unique_id": "udoc-1", "file_name": name}
        return self._message(params["chat_id"], document=document,
                             caption=params.get("caption", ""))  # fmt: skip

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], files: Any) -> Any:
        return self._message(params["chat_id"], text="(édité)")

    async def _api_editMessageText(self, params: dict[str, Any], files: Any) -> Any:
        return self._message(params["chat_id"], text=params["text"])

    async def _api_answerCallbackQuery(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any], files: Any) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_close(self, params: dict[str, Any], files: Any) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any], files: Any) -> Any:
        return True


def _error(code: int, description: str) -> JSONResponse:
    payload = {"ok": False, "error_code": code, "description": description}
    return JSONResponse(payload, status_code=code)


def markdown_v2_errors(text: str) -> list[str]:
    """What Telegram would refuse: a reserved character left unescaped (bold '*' and italic
    '_' pairs aside), or a bold or italic span left open (they never span lines here)."""
    problems: list[str] = []
    for number, text_line in enumerate(text.split("\n")):
        open_markers: list[str] = []
        escaped = False
        for position, char in enumerate(text_line):
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char in "*_":
                if open_markers and open_markers[-1] == char:
                    open_markers.pop()
                elif char in open_markers:
                    problems.append(f"overlapping {char!r} at {number}:{position}")
                else:
                    open_markers.append(char)
            elif char in MDV2_SPECIAL:
                problems.append(f"unescaped {char!r} at {number}:{position}")
        if escaped:
            problems.append(f"dangling backslash on line {number}")
        if open_markers:
            problems.append(f"unclosed {open_markers} on line {number}")
    if "__" in re.sub(r"\\.", "", text):
        problems.append("'__' (underline) where italic was meant")
    return problems


def unescape(text: str) -> str:
    """What the user sees of a MarkdownV2 text (bold and italic markers dropped)."""
    return re.sub(r"\\(.)", r"\1", re.sub(r"(?<!\\)[*_]", "", text))


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture()
def fake_api() -> Iterator[FakeBotApi]:
    server = FakeBotApi().start()
    try:
        yield server
    finally:
        server.stop()


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Camille", "language_code": "fr"}


def text_update(chat_id: int, text: str, message_id: int = 1) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Camille"},
        "from": user(chat_id),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": message}


def button_update(chat_id: int, sent: Call, callback_data: str) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": f"cq-{time.monotonic_ns()}",
            "from": user(chat_id),
            "chat_instance": "instance-1",
            "data": callback_data,
            "message": sent.result,
        }
    }


async def run_bot(application: TelegramApp, scenario: Callable[[], Awaitable[None]]) -> None:
    """What `run_polling` does, minus signal handling, around a scenario."""
    async with application:
        assert application.post_init is not None
        await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        await application.start()
        try:
            await scenario()
        finally:
            await application.updater.stop()
            await application.stop()


def run(coroutine: Awaitable[None], timeout: float = 25.0) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(coroutine, timeout)

    asyncio.run(bounded())


def keyboard_of(call: Call) -> list[tuple[str, str]]:
    rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


def assert_valid_messages(fake: FakeBotApi) -> None:
    for call in fake.calls_of("sendMessage"):
        text = call.params["text"]
        assert utf16_len(text) <= 4096
        if call.params.get("parse_mode") == "MarkdownV2":
            assert markdown_v2_errors(text) == [], text


# -- the conversation over polling -------------------------------------------------------------


@pytest.mark.timeout(60)
def test_conversation_over_polling(
    runtime: Runtime, fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    chat = 987654321
    first_words = "Bonjour, je préside une asso à Guéret, on a 4 salariés"
    application = build_application(runtime, TOKEN, fake_api.base_url)

    async def scenario() -> None:
        fake = fake_api
        # /start: the greeting, in French.
        mark = fake.mark()
        fake.push(text_update(chat, "/start"))
        greeting = await fake.wait_for("sendMessage", mark)
        assert "Bonjour" in unescape(greeting.params["text"])
        assert greeting.params["parse_mode"] == "MarkdownV2"

        # Free text: understood (Guéret, Creuse) and a question with inline quick replies.
        mark = fake.mark()
        fake.push(text_update(chat, first_words, 2))
        question = await fake.wait_for("sendMessage", mark, lambda c: "reply_markup" in c.params)
        assert "Guéret (Creuse)" in unescape(question.params["text"])
        buttons = keyboard_of(question)
        assert len(buttons) >= 2
        assert all(len(data.encode()) <= 64 and data.startswith("qr:") for _, data in buttons)
        assert fake.calls_of("sendChatAction", mark)  # "typing…" while the core works

        # Pressing a quick reply: answered, keyboard removed, the label goes to the core.
        label, data = next((b for b in buttons if b[0] == "Financement"), buttons[0])
        mark = fake.mark()
        fake.push(button_update(chat, question, data))
        await fake.wait_for("answerCallbackQuery", mark)
        edit = await fake.wait_for("editMessageReplyMarkup", mark)
        assert edit.params["message_id"] == str(question.result["message_id"])
        after = await fake.wait_for("sendMessage", mark, lambda c: "reply_markup" in c.params)
        assert label.lower() in unescape(after.params["text"]).lower()

        # The same (now stale) button again: a polite notice, and no turn.
        mark = fake.mark()
        fake.push(button_update(chat, question, data))
        stale = await fake.wait_for("answerCallbackQuery", mark)
        assert stale.params.get("text") == STALE_BUTTON
        await asyncio.sleep(0.3)
        assert not fake.calls_of("sendMessage", mark)

        # /contacts: the DLA of the Creuse, with why and how to reach it, name in bold.
        mark = fake.mark()
        fake.push(text_update(chat, "/contacts", 3))
        last = await fake.wait_for("sendMessage", mark, lambda c: "reply_markup" in c.params)
        chunks = fake.calls_of("sendMessage", mark)
        shown = "\n".join(unescape(c.params["text"]) for c in chunks)
        raw = "\n".join(c.params["text"] for c in chunks)
        assert "DLA de la Creuse" in shown
        assert "*DLA de la Creuse*" in raw
        assert "Pourquoi :" in shown and "Comment le joindre :" in shown
        assert [label for label, _ in keyboard_of(last)] == ["Voir ma fiche", "Recommencer"]
        assert all("reply_markup" not in c.params for c in chunks[:-1])

        # /fiche: a printable HTML page, then the same fiche in Markdown, to forward.
        mark = fake.mark()
        fake.push(text_update(chat, "/fiche", 4))
        page = await fake.wait_for("sendDocument", mark)
        name, content = page.files["document"]
        assert name.endswith(".html")
        assert "<h1>Fiche de synthèse Aiguillage</h1>" in content.decode("utf-8")
        document = await fake.wait_for(
            "sendDocument", mark, where=lambda call: call.files["document"][0].endswith(".md")
        )
        name, content = document.files["document"]
        fiche = content.decode("utf-8")
        assert "Fiche de synthèse" in fiche and "DLA de la Creuse" in fiche

        # /recommencer: the diagnostic starts over (the session stays).
        session_id = session_id_for(TOKEN, chat)
        assert runtime.store.get(session_id).state.departement == "23"
        mark = fake.mark()
        fake.push(text_update(chat, "/recommencer", 5))
        await fake.wait_for("sendMessage", mark)
        assert runtime.store.get(session_id).state.departement is None

        # What the core cannot take gets a short answer, without a turn.
        mark = fake.mark()
        fake.push(text_update(chat, "/aide", 6))
        unknown = await fake.wait_for("sendMessage", mark)
        assert unknown.params["text"] == UNKNOWN_COMMAND
        mark = fake.mark()
        photo = text_update(chat, "", 7)
        del photo["message"]["text"]
        photo["message"]["photo"] = [
            {"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}
        ]
        fake.push(photo)
        not_text = await fake.wait_for("sendMessage", mark)
        assert not_text.params["text"] == NOT_TEXT

        # /oubli: erased everywhere.
        mark = fake.mark()
        fake.push(text_update(chat, "/oubli", 8))
        await fake.wait_for("sendMessage", mark)
        with pytest.raises(SessionNotFoundError):
            runtime.store.get(session_id)

    run(run_bot(application, scenario), timeout=45)

    methods = {c.method for c in fake_api.calls}
    assert {"getMe", "getUpdates", "deleteWebhook", "setMyCommands"} <= methods
    assert_valid_messages(fake_api)
    # No message text nor chat id in the logs.
    for record in caplog.records:
        message = record.getMessage()
        assert str(chat) not in message and "Guéret" not in message, message
        assert TOKEN not in message


@pytest.mark.timeout(30)
def test_long_reply_is_split_under_the_limit(fake_api: FakeBotApi) -> None:
    paragraph = (
        "Le DLA (dispositif local d'accompagnement) aide les structures employeuses : "
        "diagnostic, plan d'action, suivi. Voir https://www.info-dla.fr/ — 01.23.45.67.89! "
    )
    text = "\n\n".join(f"{i}. {paragraph * 3}" for i in range(1, 40))
    text += "\n\n" + "x" * 9000 + " 🎉" * 10  # an overlong "word" must still be cut
    chat = 4242

    async def scenario() -> None:
        async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
            output = TelegramOutput(bot)
            await output.send(str(chat), Reply(text=text, quick_replies=["Oui", "Non"]))

    run(scenario())
    sent = fake_api.calls_of("sendMessage")
    assert len(sent) >= 5
    assert_valid_messages(fake_api)
    assert all(utf16_len(c.params["text"]) <= 4096 for c in sent)
    assert [("reply_markup" in c.params) for c in sent] == [False] * (len(sent) - 1) + [True]
    shown = "".join(unescape(c.params["text"]) for c in sent)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", text)  # nothing lost, nothing added
    first = unescape(sent[0].params["text"])
    assert first.endswith(paragraph.strip())  # cut between paragraphs, not inside one


@pytest.mark.timeout(30)
def test_core_failure_gives_an_apology(tmp_path: Path, fake_api: FakeBotApi) -> None:
    broken = Runtime(
        Settings(
            knowledge_dir=tmp_path / "missing",
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 's.sqlite3'}",
        )
    )
    application = build_application(broken, TOKEN, fake_api.base_url)

    async def scenario() -> None:
        mark = fake_api.mark()
        fake_api.push(text_update(77, "/start"))
        apology = await fake_api.wait_for("sendMessage", mark)
        assert apology.params["text"] == APOLOGY
        mark = fake_api.mark()
        fake_api.push(text_update(77, "Une recyclerie à Tulle", 2))
        again = await fake_api.wait_for("sendMessage", mark)
        assert again.params["text"] == APOLOGY

    run(run_bot(application, scenario))


@pytest.mark.timeout(40)
def test_a_flooding_chat_is_told_once_and_dropped(runtime: Runtime, fake_api: FakeBotApi) -> None:
    limited = Runtime(
        runtime.settings.model_copy(update={"rate_limit": "2/minute"}), embedder=runtime.embedder
    )
    application = build_application(limited, TOKEN, fake_api.base_url)
    chat, other = 91, 92

    def slow_down(call: Call) -> bool:
        return call.params.get("chat_id") in (chat, str(chat)) and "attendez" in str(
            call.params.get("text", "")
        )

    async def scenario() -> None:
        for n in range(1, 3):  # two messages: answered
            mark = fake_api.mark()
            fake_api.push(text_update(chat, "Une recyclerie à Tulle", n))
            await fake_api.wait_for("sendMessage", mark)
        mark = fake_api.mark()
        fake_api.push(text_update(chat, "Encore un message", 3))
        await fake_api.wait_for("sendMessage", mark, where=slow_down)
        # Another chat is served meanwhile; the flooding chat's next message is dropped quietly.
        fake_api.push(text_update(chat, "Et encore un", 4))
        mark = fake_api.mark()
        fake_api.push(text_update(other, "Une recyclerie à Tulle", 5))
        answer = await fake_api.wait_for("sendMessage", mark)
        assert answer.params["chat_id"] in (other, str(other))
        await asyncio.sleep(0.5)

    run(run_bot(application, scenario))
    warnings = [c for c in fake_api.calls_of("sendMessage") if slow_down(c)]
    assert len(warnings) == 1


# -- rendering the parts -----------------------------------------------------------------------


def _turns(runtime: Runtime, texts: list[str]) -> list[Reply]:
    """The replies of a conversation, as an output channel receives them."""
    conversation = runtime.conversation
    session_id, _greeting = conversation.start()
    output = CollectingOutput()

    async def converse() -> None:
        for text in texts:
            await deliver(conversation, session_id, text, output, "chat")

    run(converse())
    assert [recipient for recipient, _ in output.sent] == ["chat"] * len(texts)
    return [reply for _, reply in output.sent]


def test_parts_are_rendered_as_markdown_v2(runtime: Runtime) -> None:
    words = "Bonjour, je préside une asso à Guéret, on a 4 salariés"
    *_, contacts_turn, answer_turn = _turns(
        runtime, [words, "Financement", "/contacts", "C'est quoi l'agrément ESUS ?"]
    )
    contacts_part = next(p for p in contacts_turn.parts if isinstance(p, ContactsPart))
    assert contacts_part.contacts
    chunks = render_chunks(contacts_turn)
    raw = "\n\n".join(markdown for markdown, _plain in chunks)
    plain = "\n\n".join(text for _markdown, text in chunks)
    assert all(markdown_v2_errors(markdown) == [] for markdown, _ in chunks), raw
    assert unescape(raw) == plain  # the fallback says the same, without the markup
    for contact in contacts_part.contacts:
        bold_name = re.escape(f"*{escape_markdown(contact.name, version=2)}*")
        assert re.search(rf"^\d+\\\. {bold_name}", raw, re.MULTILINE), contact.name
        assert contact.why in plain and contact.how_to_reach in plain
        assert not re.search(rf"\b{re.escape(contact.id)}\b", plain)
    if not all(contact.verified for contact in contacts_part.contacts):
        assert "_Coordonnées à vérifier_" in raw
    assert contacts_part.text not in plain  # drawn from the fields, not the template's text

    # An answer: its body, then its sources once, numbered like the body's [n] markers.
    answer = next(p for p in answer_turn.parts if isinstance(p, AnswerPart))
    assert answer.citations
    shown = "\n\n".join(text for _markdown, text in render_chunks(answer_turn))
    assert shown.count("Sources :") == 1
    for number, source in enumerate(answer.citations, start=1):
        assert shown.count(f"[{number}] {source.title}") == 1
    guides = [p for p in answer_turn.parts if isinstance(p, GuidesPart)]
    for source in answer.citations:  # a guide already cited is not listed again
        if any(source.id in {g.id for g in part.guides} for part in guides):
            assert shown.count(source.title) == 1


def test_contact_details_come_before_how_to_reach(runtime: Runtime) -> None:
    replies = _turns(runtime, ["Une recyclerie associative à Tulle, en création", "Financement"])
    contact = next(c for reply in replies for c in reply.contacts)
    details = contact.contact.model_copy(
        update={
            "website": "https://exemple.org/a_b",
            "phone": "05 55 00 00 00",
            "email": "contact@exemple.org",
        }
    )
    unverified = contact.model_copy(update={"contact": details, "verified": False})
    verified = contact.model_copy(update={"contact": details, "verified": True})
    for item, expect_warning in ((unverified, True), (verified, False)):
        part = ContactsPart(text="(texte)", title="Voici 1 contact pour vous :", contacts=[item])
        reply = Reply(text=part.text, parts=[part], contacts=[item])
        [(markdown, plain)] = render_chunks(reply)
        assert markdown_v2_errors(markdown) == []
        assert "https://exemple\\.org/a\\_b" in markdown
        site, phone, email = (plain.index(v) for v in ("https://", "05 55", "contact@"))
        assert site < phone < email < plain.index(item.how_to_reach)
        assert ("à vérifier" in plain) is expect_warning
        assert plain.startswith("Voici 1 contact pour vous :\n\n1. ")


def test_contacts_already_shown_are_named_not_repeated(runtime: Runtime) -> None:
    _first, later = _turns(
        runtime,
        [
            "je préside une asso à Guéret, on a 4 salariés, on cherche un financement",
            "on aurait aussi besoin d'aide pour recruter",
        ],
    )
    part = next(p for p in later.parts if isinstance(p, ContactsPart))
    again = [c for c in part.contacts if c.id in part.already_shown]
    assert again and part.again
    chunks = render_chunks(later)
    assert all(markdown_v2_errors(markdown) == [] for markdown, _ in chunks)
    plain = "\n\n".join(text for _markdown, text in chunks)
    assert part.again in plain
    for contact in again:  # named once, in the line, without their details again
        assert plain.count(contact.name) == 1 and contact.how_to_reach not in plain
    for contact in part.fresh():
        assert contact.how_to_reach in plain


# -- webhook -----------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_webhook_router_checks_the_secret(
    runtime: Runtime, fake_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cret-Only_Telegram-knows"
    settings = runtime.settings.model_copy(update={"telegram_webhook_secret": SecretStr(secret)})
    monkeypatch.setattr(runtime, "settings", settings)
    application = build_application(runtime, TOKEN, fake_api.base_url)
    web = FastAPI()
    web.include_router(webhook_router(runtime, application))
    update = {"update_id": 1, **text_update(31337, "/start")}

    with TestClient(web) as client:
        assert client.post("/telegram/webhook", json=update).status_code == 403
        wrong = {SECRET_HEADER: "guess"}
        assert client.post("/telegram/webhook", json=update, headers=wrong).status_code == 403
        assert not fake_api.calls_of("sendMessage")

        right = {SECRET_HEADER: secret}
        response = client.post("/telegram/webhook", json=update, headers=right)
        assert response.status_code == 200
        greeting = fake_api.calls_of("sendMessage")
        assert len(greeting) == 1 and "Bonjour" in unescape(greeting[0].params["text"])
        # Telegram retries an update it thinks failed: the same update_id is handled once.
        again = client.post("/telegram/webhook", json=update, headers=right)
        assert again.status_code == 200
        assert len(fake_api.calls_of("sendMessage")) == 1
        assert client.post("/telegram/webhook", content=b"{", headers=right).status_code == 400
        not_update = client.post("/telegram/webhook", json={"foo": 1}, headers=right)
        assert not_update.status_code == 400

    # No secret configured: the route refuses everything.
    monkeypatch.setattr(
        runtime, "settings", settings.model_copy(update={"telegram_webhook_secret": None})
    )
    with TestClient(web) as client:
        headers = {SECRET_HEADER: ""}
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 403


# -- small parts -------------------------------------------------------------------------------


def test_session_ids_are_keyed_and_fit_the_store() -> None:
    one = session_id_for(TOKEN, 1001)
    assert one == session_id_for(TOKEN, "1001")
    assert one != session_id_for("other:token", 1001)
    assert one.startswith("tg-") and len(one) <= 64
    assert "1001" not in one


def test_quick_reply_buttons_reject_stale_and_forged_presses() -> None:
    buttons = QuickReplyButtons()
    long_label = "Une association avec salariés " * 5  # far over 64 bytes
    offered = ["Oui", long_label]
    keyboard = buttons.keyboard(offered)
    assert keyboard is not None
    datas = [str(row[0].callback_data) for row in keyboard.inline_keyboard]
    assert all(len(d.encode()) <= 64 for d in datas)
    assert buttons.resolve(datas[1], offered) == long_label
    # Offered now is something else: an older keyboard's button is stale.
    assert buttons.resolve(datas[0], ["Autre chose"]) is None
    assert buttons.resolve(datas[1], ["Oui", "Non"]) is None
    for forged in ("", "qr", "qr:x:0", "qr:1:99", "other:1:0", "qr:1:0:0", "qr:0:" + "0" * 12):
        assert buttons.resolve(forged, offered) is None
    assert buttons.keyboard([]) is None


def test_buttons_resolve_from_the_store_after_a_restart(runtime: Runtime) -> None:
    """The labels offered come from the session (any replica, any restart), not from RAM."""
    conversation = runtime.conversation
    session = conversation.store.create().id
    turn = conversation.send(session, "Je monte une recyclerie à Tulle")
    assert turn.quick_replies
    assert conversation.offered_replies(session) == turn.quick_replies
    fresh = Runtime(runtime.settings, embedder=runtime.embedder)  # another process, same store
    assert fresh.conversation.offered_replies(session) == turn.quick_replies
    fresh.store.close()


def test_split_text_prefers_paragraphs_then_lines() -> None:
    text = "a" * 50 + "\n\n" + "b" * 50 + "\n" + "c" * 50
    # A paragraph stays whole when it fits, even if the previous chunk had room for a part.
    assert split_text(text, limit=110, measure=len) == ["a" * 50, "b" * 50 + "\n" + "c" * 50]
    # A paragraph too long for one message is cut between its lines.
    assert split_text(text, limit=60, measure=len) == ["a" * 50, "b" * 50, "c" * 50]
    assert split_text("mot " * 10, limit=9, measure=len) == ["mot mot"] * 5
    assert split_text("", limit=10, measure=len) == []


# -- the command line --------------------------------------------------------------------------


def test_cli_requires_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGUILLAGE_TELEGRAM_TOKEN", raising=False)
    result = CliRunner().invoke(cli_app, ["telegram"])
    assert result.exit_code == 2
    assert "AIGUILLAGE_TELEGRAM_TOKEN" in result.output


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_cli_runs_long_polling(fake_api: FakeBotApi, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIGUILLAGE_TELEGRAM_TOKEN": TOKEN,
        "AIGUILLAGE_TELEGRAM_BASE_URL": fake_api.base_url,
        "AIGUILLAGE_DATA_DIR": str(REPO_ROOT / "var" / "test-data"),
        "AIGUILLAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    command = [sys.executable, "-c", "from connectors.cli.main import app; app()", "telegram"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        fake_api.push(text_update(555, "/start"))

        async def greeted() -> None:
            # Generous: a cold start loads the models and checks the index on a busy machine.
            await fake_api.wait_for("sendMessage", timeout=110)

        run(greeted(), timeout=115)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
    assert process.returncode == 0, err
    assert TOKEN not in err
    assert {"getMe", "deleteWebhook", "setMyCommands"} <= {c.method for c in fake_api.calls}
