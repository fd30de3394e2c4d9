"""Territory resolver: turn what a user says about where they are into INSEE codes.

:class:`TerritoryIndex` is the entry point; load it once with :func:`load_territories`
(cached per path) and share it. The package's modules: ``tables`` reads the data file,
``resolutions`` builds results from codes and names, ``mentions`` searches free sentences,
``words`` holds the vocabulary, ``text`` normalises and tokenises, ``models`` the types.

Rules, in the order :meth:`TerritoryIndex.resolve` applies them:

1. A 5-digit number is a postal code when La Poste knows it (one département → ``found``, even
   when several communes share it; several départements → ``ambiguous``), otherwise an INSEE
   code (current commune, commune déléguée/associée, arrondissement municipal, or a former code
   of a merged commune).
2. ``"23"``, ``"2A"``, ``"974"``, ``"dans le 23"``, ``"département 87"`` → that département;
   ``"20"`` (old Corsica) is ambiguous between 2A and 2B.
3. A name, compared after normalisation (case, accents, hyphens, apostrophes, ``St``/``Ste``):
   département and region names (and common aliases: ``PACA``, ``IDF``, ``Limousin``…) win over
   a commune of the same name, unless the text says ``à``/``au`` and the commune has at least
   10 000 inhabitants (``"à Vienne"`` is the town in Isère, ``"Vienne"`` the département 86).
   Communes, communes déléguées and associées (their former names: a merged village resolves to
   its new commune and département) and arrondissements municipaux (``Paris 15e``) share the
   name table.
4. When a name belongs to several communes the result is ``ambiguous`` with candidates ranked by
   population, **except** when the most populated one has more than 20 times the population of
   the next (a former commune, whose population the data does not give, counts as 1 000): then
   it is ``found`` and the others are still listed in ``candidates``.
5. No exact name: small typos are accepted (optimal string alignment distance 1 for names of 5–7
   letters, 2 for 8–11, 3 beyond; nothing for shorter names), flagged ``fuzzy=True``.
6. Still nothing: the text is searched as a sentence (see :meth:`TerritoryIndex.find_in_text`,
   in a lenient mode), so ``"près de Guéret"`` or ``"Saint-Denis (974)"`` work.

:meth:`TerritoryIndex.find_in_text` looks for a mention inside a free sentence and is strict
about ordinary words; its rules are in :mod:`assistant.territory.mentions`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from assistant.territory.mentions import MentionFinder
from assistant.territory.models import Candidate, MatchKind, Resolution, Status, found
from assistant.territory.resolutions import Resolver
from assistant.territory.tables import DEFAULT_PATH, Tables
from assistant.territory.text import name_key
from assistant.territory.words import RESOLVE_PREFIXES

__all__ = [
    "DEFAULT_PATH",
    "Candidate",
    "MatchKind",
    "Resolution",
    "Status",
    "TerritoryIndex",
    "found",
    "load_territories",
    "name_key",
]


class TerritoryIndex:
    """All French communes, départements and regions, indexed for resolution."""

    def __init__(self, path: Path | str = DEFAULT_PATH) -> None:
        self._tables = Tables(path)
        self._resolver = Resolver(self._tables)
        self._mentions = MentionFinder(self._tables, self._resolver)
        self.source = self._tables.source

    # ------------------------------------------------------------------ small lookups

    @property
    def counts(self) -> dict[str, int]:
        t = self._tables
        return {
            "regions": len(t.regions),
            "departements": len(t.departements),
            "communes": len(t.communes),
            "former_communes": t.former_count,
            "postal_codes": len(t.postal),
            "names": len(t.names),
        }

    @property
    def departement_codes(self) -> list[str]:
        return sorted(self._tables.departements)

    @property
    def region_codes(self) -> list[str]:
        return sorted(self._tables.regions)

    def departement_name(self, code: str) -> str | None:
        dep = self._tables.departements.get(self._tables.dep_code(code) or "")
        return dep[0] if dep else None

    def region_name(self, code: str) -> str | None:
        return self._tables.regions.get(code)

    def region_of(self, departement_code: str) -> str | None:
        dep = self._tables.departements.get(self._tables.dep_code(departement_code) or "")
        return dep[1] if dep else None

    def departements_of(self, region_code: str) -> list[str]:
        deps = self._tables.departements
        return sorted(c for c, (_n, r) in deps.items() if r == region_code)

    def commune(self, code: str) -> tuple[str, str] | None:
        """(name, département) of a current commune by INSEE code."""
        c = self._tables.communes.get(code)
        return (c.name, c.departement) if c else None

    def bears_name(self, name: str) -> bool:
        """Whether a commune (current or former) bears this name officially."""
        key = name_key(name)
        return any(name_key(e.name) == key for e in self._tables.names.get(key, []))

    # ------------------------------------------------------------------ public API

    def resolve(self, text: str) -> Resolution:
        """Resolve a short answer to "where are you?" (name, code, number, or a phrase)."""
        key = name_key(text)
        if not key:
            return Resolution(status="not_found", query=text)
        compact = key.replace(" ", "")
        if re.fullmatch(r"\d{5}|2[ab]\d{3}", compact):
            res = self._resolver.postal_resolution(text, compact) if compact.isdigit() else None
            res = res or self._resolver.insee_resolution(text, compact)
            if res:
                return res
        dep = self._departement_number(key)
        if dep is not None:
            return dep if isinstance(dep, Resolution) else self._resolver.dep_choice(text, dep)
        for prefix, prep in RESOLVE_PREFIXES:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                res = None
                if prep in ("au", "du"):  # "au Mans" = "à Le Mans"
                    res = self._resolver.name_resolution(text, "le " + rest, prep)
                if prep in ("aux", "des"):
                    res = self._resolver.name_resolution(text, "les " + rest, prep)
                res = res or self._resolver.name_resolution(text, rest, prep)
                if res:
                    return res
        res = self._resolver.name_resolution(text, key, None)
        if res:
            return res
        in_text = self.find_in_text(text, lenient=True)
        if in_text and in_text.status == "found":
            return in_text.model_copy(update={"query": text})
        # typos in the name only: "au marche" is not "La Marche"
        rest = next((key[len(p) :] for p, _ in RESOLVE_PREFIXES if key.startswith(p)), key)
        fuzzy = self._resolver.fuzzy_resolution(text, rest or key)
        if fuzzy and (fuzzy.status == "found" or not in_text):
            return fuzzy
        if in_text:
            return in_text.model_copy(update={"query": text})
        return Resolution(status="not_found", query=text)

    def _departement_number(self, key: str) -> Resolution | str | None:
        m = re.fullmatch(
            r"(?:(?:dans|pour|en|sur) (?:le |l )?|departement (?:du |de l )?|"
            r"dept |dpt |dep |le |du )?(\d{1,3}|2 ?[ab])",
            key,
        )
        if not m:
            return None
        code = m.group(1).replace(" ", "").upper()
        if code == "20":
            return "20"
        norm = self._tables.dep_code(code)
        if norm is None:
            return None
        return self._resolver.dep_resolution(key, norm)

    def find_in_text(self, message: str, *, lenient: bool = False) -> Resolution | None:
        """The territory a French sentence mentions, or None. Strict about ordinary words.

        ``lenient`` (used by :meth:`resolve`) also accepts lowercase names without a
        preposition.
        """
        return self._mentions.find(message, lenient=lenient)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> TerritoryIndex:
    return TerritoryIndex(path)


def load_territories(path: Path | str = DEFAULT_PATH) -> TerritoryIndex:
    """The index for ``path``, built once per process and path (cached)."""
    return _load_cached(str(Path(path).resolve()))
