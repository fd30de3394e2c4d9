"""Territory resolution: where a user says they are, as INSEE codes (see ``index``)."""

from assistant.territory.index import (
    DEFAULT_PATH,
    Candidate,
    MatchKind,
    Resolution,
    Status,
    TerritoryIndex,
    found,
    load_territories,
    normalize,
)

__all__ = [
    "DEFAULT_PATH",
    "Candidate",
    "MatchKind",
    "Resolution",
    "Status",
    "TerritoryIndex",
    "found",
    "load_territories",
    "normalize",
]
