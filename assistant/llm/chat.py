"""The optional chat model: built from settings, called under a deadline, checked by `doctor`.

This is the only module that knows a vendor exists: `build_chat_model` turns
`AIGUILLAGE_LLM_*` into a LangChain chat model through `init_chat_model`, importing the vendor
integration lazily (the default, offline path never loads it). Everything else talks to a
`ChatLLM`, which wraps any LangChain `BaseChatModel` (a fake one in tests) and turns every way
a call can go wrong into one `LLMUnavailableError` carrying a short reason code.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import PydanticOutputParser
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

from assistant.errors import LLMConfigError, LLMUnavailableError
from assistant.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# LangChain's own provider names behind our two settings values.
_PROVIDERS = {"openai-compatible": "openai", "ollama": "ollama"}


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The configured chat model. Raises `LLMConfigError` when it cannot be built."""
    provider = settings.llm_provider
    if provider == "none":
        raise LLMConfigError("no LLM is configured (AIGUILLAGE_LLM_PROVIDER=none)")
    if not settings.llm_model:
        raise LLMConfigError(f"AIGUILLAGE_LLM_MODEL is required with the {provider} provider")
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise LLMConfigError(
            "the LLM mode needs the optional extra: pip install 'aiguillage[llm]'"
        ) from exc
    timeout = settings.llm_timeout_seconds
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    kwargs: dict[str, Any] = {"temperature": 0.0}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if provider == "openai-compatible":
        kwargs.update(
            # A placeholder rather than nothing: otherwise the client would fall back to an
            # OPENAI_API_KEY found in the environment and send it to whatever base URL is set.
            api_key=key or "not-needed",
            timeout=timeout,
            max_tokens=settings.llm_max_tokens,
            # No client-side retries: a rate limit or a 5xx falls back to the rules at once,
            # within the turn's budget, instead of sleeping through exponential backoff.
            max_retries=0,
        )
    else:
        client_kwargs: dict[str, Any] = {"timeout": timeout}
        if key:  # an Ollama behind an authenticating reverse proxy
            client_kwargs["headers"] = {"Authorization": f"Bearer {key}"}
        kwargs.update(num_predict=settings.llm_max_tokens, client_kwargs=client_kwargs)
    try:
        model: BaseChatModel = init_chat_model(
            settings.llm_model, model_provider=_PROVIDERS[provider], **kwargs
        )
    except ImportError as exc:
        raise LLMConfigError(
            f"the {provider} provider needs the optional extra: pip install 'aiguillage[llm]'"
        ) from exc
    return model


def reason_for(exc: BaseException) -> str:
    """A short, message-free code for why a call failed (logs, counters, fallbacks).

    Matched on class names so that no vendor SDK has to be imported here.
    """
    if isinstance(exc, LLMUnavailableError):
        return exc.reason
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None)
    if "RateLimitError" in names or status == 429:
        return "rate_limited"
    if isinstance(exc, TimeoutError) or names & {
        "APITimeoutError",
        "TimeoutException",
        "ReadTimeout",
        "ConnectTimeout",
    }:
        return "timeout"
    if isinstance(exc, ConnectionError) or names & {"APIConnectionError", "ConnectError"}:
        return "connection"
    if isinstance(status, int) or names & {"APIStatusError", "HTTPStatusError", "ResponseError"}:
        return "http_error"
    if isinstance(exc, ValidationError | ValueError) or "OutputParserException" in names:
        return "malformed"
    return "error"


def message_text(message: Any) -> str:
    """The text of a message or chunk, whatever content shape the provider used."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return ""


def _unavailable(exc: BaseException) -> LLMUnavailableError:
    if isinstance(exc, LLMUnavailableError):
        return exc
    return LLMUnavailableError(reason_for(exc), type(exc).__name__)


class ChatLLM:
    """A chat model with a deadline on every call. The one seam the LLM features go through.

    Calls run on a daemon thread so that a model that hangs (or a client whose own timeout
    does not fire) cannot hold the user's turn past `seconds`; the stray thread ends when the
    HTTP client's timeout does, and never delays the interpreter's exit.
    """

    def __init__(self, model: BaseChatModel, timeout_seconds: float) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self._structured: dict[type[BaseModel], Runnable[Any, Any]] = {}

    def complete(self, messages: Sequence[BaseMessage], seconds: float | None = None) -> str:
        reply = _with_deadline(lambda: self.model.invoke(list(messages)), self._budget(seconds))
        text = message_text(reply)
        if not text.strip():
            raise LLMUnavailableError("empty")
        return text

    def structured(
        self, messages: Sequence[BaseMessage], schema: type[M], seconds: float | None = None
    ) -> M:
        """The model's reply parsed into `schema` (LangChain structured output)."""
        runnable = self._structured_runnable(schema)
        result = _with_deadline(lambda: runnable.invoke(list(messages)), self._budget(seconds))
        try:
            if isinstance(result, schema):
                return result
            if isinstance(result, dict):
                return schema.model_validate(result)
        except ValidationError as exc:
            raise LLMUnavailableError("malformed", type(exc).__name__) from exc
        raise LLMUnavailableError("malformed", type(result).__name__)

    def stream(
        self, messages: Sequence[BaseMessage], seconds: float | None = None
    ) -> Iterator[str]:
        """Text pieces as they come; raises `LLMUnavailableError` (timeout included) mid-way."""
        deadline = time.monotonic() + self._budget(seconds)
        pieces: queue.Queue[tuple[Literal["piece", "end", "error"], Any]] = queue.Queue()
        stop = threading.Event()

        def produce() -> None:
            try:
                for chunk in self.model.stream(list(messages)):
                    if stop.is_set():
                        return
                    pieces.put(("piece", message_text(chunk)))
                pieces.put(("end", None))
            except Exception as exc:  # handed to the consumer, which classifies it
                pieces.put(("error", exc))

        threading.Thread(target=produce, daemon=True, name="aiguillage-llm-stream").start()
        try:
            while True:
                try:
                    kind, value = pieces.get(timeout=max(deadline - time.monotonic(), 0.0))
                except queue.Empty:
                    raise LLMUnavailableError("timeout") from None
                if kind == "end":
                    return
                if kind == "error":
                    raise _unavailable(value) from value
                if value:
                    yield value
        finally:
            stop.set()

    async def astream(
        self, messages: Sequence[BaseMessage], seconds: float | None = None
    ) -> AsyncIterator[str]:
        """The async twin of `stream`, for async channels (FastAPI, python-telegram-bot)."""
        try:
            async with asyncio.timeout(self._budget(seconds)):
                async for chunk in self.model.astream(list(messages)):
                    text = message_text(chunk)
                    if text:
                        yield text
        except TimeoutError:
            raise LLMUnavailableError("timeout") from None
        except LLMUnavailableError:
            raise
        except Exception as exc:
            raise _unavailable(exc) from exc

    def _budget(self, seconds: float | None) -> float:
        return self.timeout_seconds if seconds is None else min(seconds, self.timeout_seconds)

    def _structured_runnable(self, schema: type[BaseModel]) -> Runnable[Any, Any]:
        runnable = self._structured.get(schema)
        if runnable is None:
            try:
                runnable = self.model.with_structured_output(schema)
            except NotImplementedError:
                # Models without tool/JSON-schema support (and LangChain's fakes): the prompt
                # asks for JSON, and LangChain's parser reads it.
                runnable = self.model | PydanticOutputParser(pydantic_object=schema)
            self._structured[schema] = runnable
        return runnable


def _with_deadline(call: Callable[[], T], seconds: float) -> T:
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, call()))
        except BaseException as exc:  # handed to the caller, which classifies it
            box.put((False, exc))

    threading.Thread(target=run, daemon=True, name="aiguillage-llm").start()
    try:
        ok, value = box.get(timeout=seconds)
    except queue.Empty:
        raise LLMUnavailableError("timeout") from None
    if ok:
        return value  # type: ignore[no-any-return]
    raise _unavailable(value) from value


class LLMStatus(BaseModel):
    """What `aiguillage doctor` reports about the LLM mode."""

    mode: Literal["deterministic", "llm"]
    provider: str
    model: str | None = None
    base_url: str | None = None
    ok: bool
    latency_ms: int | None = None
    problem: str | None = None


def check_endpoint(settings: Settings, model: BaseChatModel | None = None) -> LLMStatus:
    """Which mode is active and, in LLM mode, whether the endpoint answers a one-word ping."""
    if settings.llm_provider == "none":
        return LLMStatus(mode="deterministic", provider="none", ok=True)
    status = LLMStatus(
        mode="llm",
        provider=settings.llm_provider,
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        ok=False,
    )
    try:
        llm = ChatLLM(model or build_chat_model(settings), settings.llm_timeout_seconds)
        started = time.perf_counter()
        llm.complete([SystemMessage("Réponds seulement : OK"), HumanMessage("Test de connexion.")])
    except LLMConfigError as exc:
        status.problem = str(exc)
        return status
    except LLMUnavailableError as exc:
        status.problem = exc.reason
        return status
    status.ok = True
    status.latency_ms = round((time.perf_counter() - started) * 1000)
    return status
