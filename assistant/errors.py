"""All of Aiguillage's exceptions, in one place.

AiguillageError
├── KnowledgeError          a card or directory file cannot be read or is invalid
├── IndexNotBuiltError      the search index is missing: run `aiguillage index`
├── TerritoryDataError      the shipped territory file is missing or corrupt
├── DiagnosticScriptError   the diagnostic YAML is invalid
├── ScenarioError           a scenario file is invalid
└── SessionNotFoundError    no session with that id (or it was erased / purged)
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
