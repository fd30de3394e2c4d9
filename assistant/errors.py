"""All of Aiguillage's exceptions, in one place.

AiguillageError
├── KnowledgeError          a card or directory file cannot be read or is invalid
├── IndexNotBuiltError      the search index is missing: run `aiguillage index`
├── TerritoryDataError      the shipped territory file is missing or corrupt
├── DiagnosticScriptError   the diagnostic YAML is invalid
├── ScenarioError           a scenario file is invalid
├── SessionNotFoundError    no session with that id (or it was erased / purged)
├── MessageIdConflictError  a message id (Idempotency-Key) already named another message
├── SessionStoreUnavailableError  the session database cannot be reached or opened
├── DocumentError          a curator's document cannot be added (unreadable, no text, too large)
├── LLMConfigError          an LLM provider is set but incomplete, or the `llm` extra is missing
└── LLMUnavailableError     the chat model failed, timed out or answered unusably (has .reason)
"""

from __future__ import annotations


class AiguillageError(Exception):
    """Base class of every error this project raises on purpose."""


class KnowledgeError(AiguillageError):
    """A knowledge card or directory file cannot be read or does not match its schema."""


class IndexNotBuiltError(AiguillageError):
    """The search index does not exist yet."""


class TerritoryDataError(AiguillageError):
    """The territory reference shipped in knowledge/territories is missing or corrupt."""


class DiagnosticScriptError(AiguillageError):
    """The diagnostic script (YAML) is invalid."""


class ScenarioError(AiguillageError):
    """A scenario file is invalid."""


class SessionNotFoundError(AiguillageError):
    """No session has this id (never created, erased or purged)."""


class MessageIdConflictError(AiguillageError):
    """A message id already named another message in this session (its message is French)."""


class SessionStoreUnavailableError(AiguillageError):
    """The session database cannot be reached or opened (its message is French, secret-free)."""


class DocumentError(AiguillageError):
    """A document given to `knowledge add` cannot be used; the French message says why and
    what to do. Raised before anything is written."""


class LLMConfigError(AiguillageError):
    """AIGUILLAGE_LLM_* names a provider but not enough to build it, or `[llm]` is not installed."""


class LLMUnavailableError(AiguillageError):
    """The chat model could not be used for this turn; the caller falls back to the rules.

    `reason` is a short code for logs and counters (never message text): timeout, rate_limited,
    http_error, connection, malformed, empty, error.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def describe(exc: Exception, root: str = "") -> str:
    """One line a curator can act on: for a pydantic error, 'field.sub: message; …' (``root``
    names the whole object when the error has no field); for anything else, its message."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or root}: {err['msg']}".lstrip(": ")
        for err in errors()
    )
