"""A way in for every contact: its own sourced site, e-mail or phone, or else a page that finds
the local office (the network's finder, the network's national site, the region's CRESS).

The networks and their finder pages are data (knowledge/networks.yaml); which structure belongs
to which network is given there by id patterns. Nothing here invents an address: every URL
comes from a finder page recorded with its source, or from a directory entry's sourced contact.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import yamlfile
from assistant.errors import KnowledgeError, describe
from assistant.orientation.directory import Structure
from assistant.render.composer import Composer
from assistant.territory.index import TerritoryIndex

__all__ = ["Finder", "Network", "Reach", "load_networks"]

FinderKind = Literal["finder", "network", "cress", "national"]


class FinderPage(BaseModel):
    """A network's own page that lists or finds its local offices."""

    model_config = ConfigDict(extra="forbid")

    url: str
    label: str  # what the person clicks, in French
    title: str
    seen: dt.date
    evidence: str


class Network(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    members: list[str] = Field(default_factory=list)  # directory ids, `*` patterns allowed
    finder: FinderPage | None = None
    missing: str | None = None  # where no finder page was found: what was searched

    def has(self, structure_id: str) -> bool:
        return any(fnmatch.fnmatchcase(structure_id, pattern) for pattern in self.members)


class Finder(BaseModel):
    """How to reach a contact that has no sourced detail of its own."""

    kind: FinderKind
    label: str  # French, from prompts/parts/finder.md.j2
    url: str
    via: str  # the network or directory entry the address comes from


def load_networks(path: Path) -> list[Network]:
    try:
        raw = yamlfile.safe_load(path.read_text(encoding="utf-8")) or []
        return [Network.model_validate(item) for item in raw]
    except (OSError, yamlfile.YAMLError, ValidationError, TypeError) as exc:
        raise KnowledgeError(f"{path}: {describe(exc, 'networks')}") from exc


def _site(structure: Structure) -> str | None:
    return structure.contact.website or structure.contact.site_page


class Reach:
    """Finds the way in for each directory entry (computed once per entry)."""

    def __init__(
        self,
        networks: Iterable[Network],
        structures: Iterable[Structure],
        composer: Composer,
        national: Sequence[str] = (),
        territories: TerritoryIndex | None = None,
    ) -> None:
        self.networks = list(networks)
        # An entry that covers départements or communes is in their regions: their CRESS finds it.
        self.territories = territories
        self.composer = composer
        active = [s for s in structures if s.status == "active"]
        # The last resort: the national entry points that help find an accompanier (script.yaml's
        # human_entry_points), for an entry whose region has no CRESS (Normandy since 2025).
        by_id = {s.id: s for s in active if _site(s)}
        self._national = [by_id[i] for i in national if i in by_id]
        self._cress_by_region = {
            region: s
            for s in active
            if s.kind == "cress" and _site(s)
            for region in s.coverage.regions
        }
        self._heads = {
            n.id: head
            for n in self.networks
            for head in active
            if n.has(head.id) and head.coverage.national and _site(head)
        }

    def network_of(self, structure_id: str) -> Network | None:
        return next((n for n in self.networks if n.has(structure_id)), None)

    def reachable(self, entry: Structure, region: str | None = None) -> bool:
        """Its own sourced site, e-mail or phone, or a finder: cheap, for ranking."""
        return bool(entry.contact.way_in()) or self._locate(entry, region) is not None

    def way_in(self, entry: Structure, region: str | None = None) -> Finder | None:
        """None when the entry has its own sourced site, e-mail or phone; otherwise the best
        finder; None too when nothing sourced can be offered (the caller reports it)."""
        if entry.contact.way_in():
            return None
        found = self._locate(entry, region)
        if found is None:
            return None
        kind, url, via, label, name = found
        text = self.composer.render("parts/finder.md.j2", kind=kind, label=label, name=name)
        return Finder(kind=kind, label=text, url=url, via=via)

    def _locate(
        self, entry: Structure, region: str | None
    ) -> tuple[FinderKind, str, str, str, str] | None:
        """(kind, url, via, the finder page's label, the entry named) of the best finder."""
        network = self.network_of(entry.id)
        if network and network.finder:
            return "finder", network.finder.url, network.id, network.finder.label, ""
        head = self._heads.get(network.id) if network else None
        if network and head and head.id != entry.id:
            return "network", _site(head) or "", head.id, "", head.name
        for code in (*self._regions(entry), region):
            cress = self._cress_by_region.get(code) if code else None
            if cress is not None and cress.id != entry.id:
                return "cress", _site(cress) or "", cress.id, "", cress.name
        for head in self._national:
            if head.id != entry.id:
                return "national", _site(head) or "", head.id, "", head.name
        return None

    def _regions(self, entry: Structure) -> list[str | None]:
        """The regions an entry works in: named, or those of its départements and communes."""
        coverage = entry.coverage
        if self.territories is None:
            return list(coverage.regions)
        places = self.territories
        departements = [
            *coverage.departements,
            *(found[1] for code in coverage.communes if (found := places.commune(code))),
        ]
        return [*coverage.regions, *(places.region_of(d) for d in dict.fromkeys(departements))]
