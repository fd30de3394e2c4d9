"""Aiguillage's core: conversation engine, diagnostic, retrieval, orientation, composition.

The public Python API is what `__all__` lists (a test keeps it complete and sorted); the
rest are implementation modules. Channels live in the `connectors` package. Names load on
first use (PEP 562), so `import assistant` stays cheap: the console script starts without
ChromaDB, bm25s, SQLAlchemy or LangChain.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answers.answering import Answer, Answerer, SourceRef
    from assistant.dialogue.conversation import Conversation
    from assistant.dialogue.engine import Engine
    from assistant.dialogue.state import DiagnosticState
    from assistant.dialogue.turn import TurnResult
    from assistant.orientation.adviser import Adviser, AdviserReport
    from assistant.orientation.contacts import Orientation, OrientationResult, Recommendation
    from assistant.render.parts import Part
    from assistant.runtime import Runtime
    from assistant.settings import Settings

from assistant.errors import (
    AiguillageError,
    DiagnosticScriptError,
    DocumentError,
    IndexNotBuiltError,
    KnowledgeError,
    LLMConfigError,
    LLMUnavailableError,
    MessageIdConflictError,
    ScenarioError,
    SessionNotFoundError,
    SessionStoreUnavailableError,
    TerritoryDataError,
)

_WHERE: dict[str, str] = {
    "Adviser": "assistant.orientation.adviser",
    "AdviserReport": "assistant.orientation.adviser",
    "Answer": "assistant.answers.answering",
    "Answerer": "assistant.answers.answering",
    "Conversation": "assistant.dialogue.conversation",
    "DiagnosticState": "assistant.dialogue.state",
    "Engine": "assistant.dialogue.engine",
    "Orientation": "assistant.orientation.contacts",
    "OrientationResult": "assistant.orientation.contacts",
    "Part": "assistant.render.parts",
    "Recommendation": "assistant.orientation.contacts",
    "Runtime": "assistant.runtime",
    "Settings": "assistant.settings",
    "SourceRef": "assistant.answers.answering",
    "TurnResult": "assistant.dialogue.turn",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "Adviser",
    "AdviserReport",
    "AiguillageError",
    "Answer",
    "Answerer",
    "Conversation",
    "DiagnosticScriptError",
    "DiagnosticState",
    "DocumentError",
    "Engine",
    "IndexNotBuiltError",
    "KnowledgeError",
    "LLMConfigError",
    "LLMUnavailableError",
    "MessageIdConflictError",
    "Orientation",
    "OrientationResult",
    "Part",
    "Recommendation",
    "Runtime",
    "ScenarioError",
    "SessionNotFoundError",
    "SessionStoreUnavailableError",
    "Settings",
    "SourceRef",
    "TerritoryDataError",
    "TurnResult",
]
