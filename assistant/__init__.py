"""Aiguillage's core: conversation engine, diagnostic, retrieval, orientation, composition.

The public Python API is what `__all__` lists (a test keeps it complete and sorted); the
rest are implementation modules. Channels live in the `connectors` package.
"""

from assistant.answers.answering import Answer, Answerer, SourceRef
from assistant.dialogue.conversation import Conversation
from assistant.dialogue.engine import Engine, TurnResult
from assistant.dialogue.state import DiagnosticState
from assistant.errors import (
    AiguillageError,
    DiagnosticScriptError,
    IndexNotBuiltError,
    KnowledgeError,
    LLMConfigError,
    LLMUnavailableError,
    ScenarioError,
    SessionNotFoundError,
    TerritoryDataError,
)
from assistant.orientation.adviser import Adviser, AdviserReport
from assistant.orientation.contacts import Orientation, OrientationResult, Recommendation
from assistant.runtime import Runtime
from assistant.settings import Settings

__all__ = [
    "Adviser",
    "AdviserReport",
    "AiguillageError",
    "Answer",
    "Answerer",
    "Conversation",
    "DiagnosticScriptError",
    "DiagnosticState",
    "Engine",
    "IndexNotBuiltError",
    "KnowledgeError",
    "LLMConfigError",
    "LLMUnavailableError",
    "Orientation",
    "OrientationResult",
    "Recommendation",
    "Runtime",
    "ScenarioError",
    "SessionNotFoundError",
    "Settings",
    "SourceRef",
    "TerritoryDataError",
    "TurnResult",
]
