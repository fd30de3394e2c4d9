"""Building :class:`Resolution` objects from the tables: postal and INSEE codes, exact names
with the département/region precedence rule, names with typos, and the ranking of several
communes of one name by population (rules 1 to 5 of :mod:`assistant.territory.index`)."""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.territory.models import (
    BIG_TOWN,
    DOMINANCE_RATIO,
    FUZZY_DOMINANCE,
    UNKNOWN_POPULATION,
    Candidate,
    MatchKind,
    NameEntry,
    Resolution,
    found,
)
from assistant.territory.tables import Tables
from assistant.territory.text import sound_of
from assistant.territory.words import COMMON_WORDS, is_french_word

MIN_SOUND = 3  # a two-sound code ("VI", "PI") is shared by too many words

__all__ = ["Resolver", "typo_distance"]


class Resolver:
    """Turns codes and normalised names into resolutions, reading :class:`Tables`."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def candidate(self, entry: NameEntry) -> Candidate:
        c = self.tables.communes[entry.commune_code]
        dep_name, region = self.tables.departements[c.departement]
        return Candidate(
            kind=entry.kind,
            name=entry.name,
            commune=c.name,
            commune_code=c.code,
            departement=c.departement,
            departement_name=dep_name,
            region=region,
            region_name=self.tables.regions[region],
            population=c.population if entry.kind == "commune" else None,
        )

    def dep_resolution(
        self, query: str, code: str, kind: MatchKind = "departement", matched: str | None = None
    ) -> Resolution:
        name, region = self.tables.departements[code]
        return Resolution(
            status="found",
            query=query,
            kind=kind,
            matched=matched or name,
            departement=code,
            departement_name=name,
            region=region,
            region_name=self.tables.regions[region],
        )

    def region_resolution(self, query: str, code: str) -> Resolution:
        dep = self.tables.single_dep_regions.get(code) or None
        return Resolution(
            status="found",
            query=query,
            kind="region",
            matched=self.tables.regions[code],
            departement=dep,
            departement_name=self.tables.departements[dep][0] if dep else None,
            region=code,
            region_name=self.tables.regions[code],
        )

    def entries_resolution(
        self,
        query: str,
        entries: list[NameEntry],
        *,
        fuzzy: bool = False,
        dominance: float = DOMINANCE_RATIO,
    ) -> Resolution:
        """Found, or ambiguous with candidates ranked by population (see rule 4). Candidates
        that all lie in one département are not worth a question: the biggest is taken."""
        by_commune: dict[str, NameEntry] = {}
        for e in entries:
            prev = by_commune.get(e.commune_code)
            if prev is None or (e.kind == "commune" and prev.kind != "commune"):
                by_commune[e.commune_code] = e
        cands = [self.candidate(e) for e in by_commune.values()]
        cands.sort(key=lambda c: (c.population is None, -(c.population or 0), c.commune_code))
        if not cands:
            return Resolution(status="not_found", query=query)
        top = cands[0]
        if len(cands) > 1 and len({c.departement for c in cands}) > 1:
            second = cands[1].population
            second_eff = UNKNOWN_POPULATION if second is None else max(second, 1)
            if (top.population or 0) <= dominance * second_eff:
                return Resolution(
                    status="ambiguous",
                    query=query,
                    matched=top.name,
                    fuzzy=fuzzy,
                    candidates=cands,
                )
        return found(
            top, query, matched=top.name, fuzzy=fuzzy, candidates=cands if len(cands) > 1 else []
        )

    def postal_resolution(self, query: str, postal: str) -> Resolution | None:
        codes = self.tables.postal.get(postal)
        if not codes:
            return None
        entries = [NameEntry("commune", self.tables.communes[c].name, c) for c in codes]
        cands = sorted(
            (self.candidate(e) for e in entries),
            key=lambda c: (-(c.population or 0), c.commune_code),
        )
        deps = {c.departement for c in cands}
        if len(deps) > 1:
            return Resolution(
                status="ambiguous",
                query=query,
                kind="postal_code",
                matched=postal,
                postal_code=postal,
                candidates=cands,
            )
        base = self.dep_resolution(query, cands[0].departement, "postal_code", postal)
        update: dict[str, Any] = {"postal_code": postal}
        if len(cands) == 1:
            update |= {"commune": cands[0].commune, "commune_code": cands[0].commune_code}
        else:
            update["candidates"] = cands
        return base.model_copy(update=update)

    def insee_resolution(self, query: str, code: str) -> Resolution | None:
        entry = self.tables.insee.get(code.upper())
        if entry is None:
            return None
        res = self.entries_resolution(query, [entry])
        return res.model_copy(update={"kind": "insee_code", "matched": entry.name})

    def name_resolution(self, query: str, key: str, prep: str | None) -> Resolution | None:
        """Exact (normalised) name lookup, with the département/region precedence rule."""
        dep = self.tables.dep_names.get(key)
        region = self.tables.region_names.get(key)
        entries = self.tables.names.get(key, [])
        if entries and prep in ("a", "au", "aux") and (dep or region):
            biggest = max(self.tables.communes[e.commune_code].population for e in entries)
            if biggest >= BIG_TOWN:
                return self.entries_resolution(query, entries)
        if dep:
            inside = [e for e in entries if self.tables.communes[e.commune_code].departement == dep]
            if inside and prep in ("en", "dans"):
                # "en Corrèze" is the département, "dans Paris" still the city
                inside = [
                    e for e in inside if self.tables.communes[e.commune_code].population >= BIG_TOWN
                ]
            if inside:  # "Paris", "Belfort": the commune is in the département of that name
                return self.entries_resolution(query, inside)
            return self.dep_resolution(query, dep)
        if region:
            return self.region_resolution(query, region)
        if entries:
            return self.entries_resolution(query, entries)
        return None

    def fuzzy_keys(self, key: str, limit: int | None = None) -> list[str]:
        n = len(key.replace(" ", ""))
        if n < 5:
            return []
        max_d = typo_distance(n)
        if limit is not None:
            max_d = min(max_d, limit)
        choices: list[str] = []
        for length in range(len(key) - max_d, len(key) + max_d + 1):
            if max_d == 1:
                choices.extend(self.tables.keys_by_edge.get(("<" + key[:2], length), []))
                choices.extend(self.tables.keys_by_edge.get((key[-2:] + ">", length), []))
            else:
                choices.extend(self.tables.keys_by_len.get(length, []))
        found = process.extract(key, choices, scorer=OSA.distance, score_cutoff=max_d, limit=50)
        if not found:
            return []
        best = min(d for _k, d, _i in found)
        return sorted({k for k, d, _i in found if d == best})

    def sound_keys(self, key: str) -> list[str]:
        """Names of towns that sound like the key, when no spelling is a letter or two away
        ("kimper", "nior", "troie"); one sound per word, and a long enough one."""
        if all(is_french_word(word) for word in key.split()):
            return []  # "à monter une structure" sounds like Monteux
        code = sound_of(key)
        if len(code.replace(" ", "")) < MIN_SOUND:
            return []
        return sorted(self.tables.sounds.get(code, []))

    def fuzzy_resolution(self, query: str, key: str, limit: int | None = None) -> Resolution | None:
        if key in COMMON_WORDS or all(t in COMMON_WORDS for t in key.split()):
            return None
        # Spelt a letter or two away, or as it sounds ("bordo" is Borgo by its letters, and
        # Bordeaux by its sound: the population decides below).
        keys = sorted({*self.fuzzy_keys(key, limit), *self.sound_keys(key)})
        if not keys:
            return None
        for k in keys:  # a département or region name wins
            if k in self.tables.dep_names:
                return self.dep_resolution(query, self.tables.dep_names[k]).model_copy(
                    update={"fuzzy": True}
                )
            if k in self.tables.region_names:
                return self.region_resolution(query, self.tables.region_names[k]).model_copy(
                    update={"fuzzy": True}
                )
        # A doubled letter typed once is the commonest slip ("lanion" for Lannion, "anecy"):
        # a name that differs only so is meant rather than others one letter away.
        doubled = [
            e
            for k in keys
            if _single_letters(k) == _single_letters(key)
            for e in self.tables.names.get(k, [])
        ]
        if not any(self.tables.communes[e.commune_code].population >= BIG_TOWN for e in doubled):
            doubled = []  # a town people know, not any hamlet one letter away
        entries = doubled or [e for k in keys for e in self.tables.names.get(k, [])]
        # A typo most likely aims at the town people know: a lower bar for dominance.
        return self.entries_resolution(query, entries, fuzzy=True, dominance=FUZZY_DOMINANCE)

    def dep_choice(self, query: str, code: str) -> Resolution:
        """ "20": the former single Corsican département, ambiguous between 2A and 2B."""
        cands = []
        for dep in ("2A", "2B"):
            name, region = self.tables.departements[dep]
            cands.append(
                Candidate(
                    kind="departement",
                    name=name,
                    departement=dep,
                    departement_name=name,
                    region=region,
                    region_name=self.tables.regions[region],
                )
            )
        return Resolution(
            status="ambiguous",
            query=query,
            kind="departement",
            matched=code,
            region="94",
            region_name=self.tables.regions["94"],
            candidates=cands,
        )


def _single_letters(name: str) -> str:
    """The name with each doubled letter written once ("lannion" -> "lanion")."""
    return re.sub(r"(\w)\1+", r"\1", name)


def typo_distance(letters: int) -> int:
    """How many letters a name of that length may be typed away from a town's."""
    return 1 if letters <= 7 else 2 if letters <= 11 else 3
