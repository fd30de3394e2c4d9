"""The territory package's types: public results (Candidate, Resolution), the internal
records of the data tables, and the population thresholds the resolution rules use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BIG_CITY",
    "BIG_TOWN",
    "DOMINANCE_RATIO",
    "UNKNOWN_POPULATION",
    "Candidate",
    "Commune",
    "MatchKind",
    "MentionClass",
    "NameEntry",
    "Resolution",
    "Status",
    "found",
]

Status = Literal["found", "ambiguous", "not_found"]
MatchKind = Literal[
    "commune",
    "commune-deleguee",
    "commune-associee",
    "arrondissement-municipal",
    "postal_code",
    "insee_code",
    "departement",
    "region",
]
MentionClass = Literal["commune", "departement", "region"]

DOMINANCE_RATIO = 20
FUZZY_DOMINANCE = 5  # for a misspelt name: "troye" is Troyes (62 000), not Roye (5 800)
UNKNOWN_POPULATION = 1000  # a former commune's population, for the dominance test only
BIG_TOWN = 10_000  # "à Vienne" is the town, not the département, from this population on
# A town said by the first part of its hyphenated name ("Carhaix", "Sarlat", "Argentat")
SHORT_NAME_TOWN = 2_000
SOUND_TOWN = 5_000  # a name misspelt as it sounds ("kimper") is looked for among towns this big
BIG_CITY = 50_000  # "a tours", "a nice": lowercase after "à" even when the name is a common word


class Candidate(BaseModel):
    """One possible place when a text is ambiguous (or a postal code covers several communes)."""

    model_config = ConfigDict(frozen=True)

    kind: MatchKind
    name: str  # the name that matched (a former commune keeps its own name here)
    commune: str | None = None
    commune_code: str | None = None
    departement: str
    departement_name: str
    region: str
    region_name: str
    population: int | None = None  # None for former communes and départements

    @property
    def label(self) -> str:
        """How the place is offered to choose from: "Saint-Denis (La Réunion, 974)"."""
        return f"{self.commune or self.name} ({self.departement_name}, {self.departement})"


class Resolution(BaseModel):
    """What a text says about a territory. Codes are INSEE codes as strings."""

    model_config = ConfigDict(frozen=True)

    status: Status
    query: str
    kind: MatchKind | None = None
    matched: str | None = None  # the official name (or code) that matched
    commune: str | None = None
    commune_code: str | None = None
    departement: str | None = None
    departement_name: str | None = None
    region: str | None = None
    region_name: str | None = None
    postal_code: str | None = None
    fuzzy: bool = False
    candidates: list[Candidate] = Field(default_factory=list)


def found(candidate: Candidate, query: str, **extra: Any) -> Resolution:
    """The resolution that settles on one candidate (after disambiguation or a choice)."""
    return Resolution(
        status="found",
        query=query,
        kind=candidate.kind,
        commune=candidate.commune,
        commune_code=candidate.commune_code,
        departement=candidate.departement,
        departement_name=candidate.departement_name,
        region=candidate.region,
        region_name=candidate.region_name,
        **extra,
    )


@dataclass(frozen=True, slots=True)
class Commune:
    """A current commune as the data file gives it."""

    code: str
    name: str
    departement: str
    postal_codes: tuple[str, ...]
    population: int


@dataclass(frozen=True, slots=True)
class NameEntry:
    """What a normalised name (or an INSEE code) points to: always a current commune."""

    kind: MatchKind  # commune, commune-deleguee, commune-associee, arrondissement-municipal
    name: str
    commune_code: str
