"""A small OpenAI-compatible chat server on 127.0.0.1, for the LLM end-to-end tests.

Not a test module. It plays an "extractive" model, enough to exercise the real
langchain-openai client and the whole LLM path: to an answer prompt it returns the passage
sentence that shares most words with the question, cited; to an extraction prompt, a JSON
object; to a rewrite prompt, the question itself; to anything else, "OK". Chat completions,
streaming (server-sent events) and not. `mode` switches it to failures: "rate_limit" (HTTP
429) or "hang" (answers after `hang_seconds`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.DOTALL)
_QUESTION = re.compile(r"<question>\n(.*?)\n</question>", re.DOTALL)


def _words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return {w for w in re.findall(r"[a-z0-9]+", folded) if len(w) > 3}


def reply_for(body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    system = str(messages[0].get("content", "")) if messages else ""
    user = str(messages[-1].get("content", "")) if messages else ""
    question = _QUESTION.search(user)
    if "<passages>" in user and question:
        wanted = _words(question.group(1))
        best: tuple[int, int, str] = (-1, 0, "")
        for n, text in _PASSAGE.findall(user):
            for sentence in re.split(r"(?<=[.!?])\s+", text.replace("**", "")):
                score = len(wanted & _words(sentence))
                if len(sentence.split()) >= 4 and score > best[0]:
                    best = (score, int(n), sentence.strip())
        return f"{best[2]} [{best[1]}]" if best[2] else "Les fiches ne le précisent pas."
    if body.get("response_format") or body.get("tools") or "objet JSON" in system:
        needs = ["financement"] if re.search(r"financ|sous|argent|tresor", user.lower()) else []
        return json.dumps(
            {
                "stage": None,
                "profile": None,
                "needs": needs,
                "sector": None,
                "place": None,
                "employees": None,
            }
        )
    if "reformules" in system and question:
        return question.group(1).strip()
    return "OK"


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.hang_seconds = 5.0
        self.requests: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(body)
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        if self.server.mode == "rate_limit":
            self._json(429, {"error": {"message": "rate limited", "type": "rate_limit"}})
            return
        if self.server.mode == "hang":
            time.sleep(self.server.hang_seconds)
        text = reply_for(body)
        model = body.get("model", "fake")
        if body.get("stream"):
            self._stream(text, model)
            return
        self._json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
            },
        )

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, text: str, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in re.split(r"(?<=\s)", text):
            if piece:
                event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
