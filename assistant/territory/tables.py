"""The data file and the lookup tables built from it.

The data is ``knowledge/territories/territories.json.gz`` (built by
``scripts/build_territories.py`` from the npm package ``@etalab/decoupage-administratif``).
:class:`Tables` reads it once: communes, postal codes, INSEE codes, normalised names of
communes, départements and regions (with their aliases), and the keys the typo search uses.
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant import yamlfile
from assistant.paths import KNOWLEDGE_DIR
from assistant.territory.models import (
    BIG_TOWN,
    DOMINANCE_RATIO,
    SHORT_NAME_TOWN,
    SOUND_TOWN,
    UNKNOWN_POPULATION,
    Commune,
    NameEntry,
)
from assistant.territory.text import name_key, sound_of
from assistant.territory.words import (
    COMMON_WORDS,
    DEPARTEMENT_ALIASES,
    REGION_ALIASES,
    SAINTS,
    is_french_word,
)

__all__ = ["DEFAULT_PATH", "PAYS_FILE", "TOWNS_FILE", "Tables", "read_codes", "read_pays"]

DEFAULT_PATH = KNOWLEDGE_DIR / "territories" / "territories.json.gz"
PAYS_FILE = "pays.yaml"  # beside the data file: traditional areas read as their département
TOWNS_FILE = "towns.yaml"  # beside it too: other names of towns ("Sainté", "Aiacciu")


class Tables:
    """Every table the resolution needs, keyed by INSEE code, postal code or normalised name."""

    def __init__(self, path: Path | str = DEFAULT_PATH) -> None:
        with gzip.open(Path(path), "rb") as fh:
            data: dict[str, Any] = json.loads(fh.read().decode("utf-8"))
        self.source: dict[str, Any] = data["source"]
        self.regions: dict[str, str] = {code: name for code, name in data["regions"]}
        self.departements: dict[str, tuple[str, str]] = {
            code: (name, region) for code, name, region in data["departements"]
        }
        self.communes: dict[str, Commune] = {}
        self.postal: dict[str, list[str]] = {}
        self.insee: dict[str, NameEntry] = {}
        self.names: dict[str, list[NameEntry]] = {}
        self.former_count = 0
        self._former_parts: dict[str, int] = {}  # new commune -> how many former ones
        self._read_communes(data, path)
        self._read_arrondissements(data)
        for old, new in data["old_codes"].items():
            if old not in self.insee and new in self.communes:
                self.insee[old] = NameEntry("commune", self.communes[new].name, new)

        self.dep_names: dict[str, str] = {}
        for code, (name, _region) in self.departements.items():
            self.dep_names[name_key(name)] = code
        for alias, code in DEPARTEMENT_ALIASES.items():
            self.dep_names.setdefault(alias, code)
        # A pays with an unknown code is left out here (`knowledge validate` reports it).
        self.pays = {
            name: code
            for name, code in read_pays(Path(path).with_name(PAYS_FILE)).items()
            if code in self.departements
        }
        self.pays_keys: set[str] = set()
        for name, code in self.pays.items():
            key = name_key(name)
            self.pays_keys.add(key)
            self.dep_names.setdefault(key, code)
        self.region_names: dict[str, str] = {name_key(n): c for c, n in self.regions.items()}
        for alias, code in REGION_ALIASES.items():
            self.region_names.setdefault(alias, code)
        self.single_dep_regions: dict[str, str] = {}
        for code, (_name, region) in self.departements.items():
            self.single_dep_regions[region] = "" if region in self.single_dep_regions else code
        self._index_keys()

    def _read_communes(self, data: dict[str, Any], path: Path | str) -> None:
        """Current communes, then former ones (communes déléguées and associées), then the
        other names of towns (towns.yaml) and their short names, where no commune already
        bears that name."""
        short: list[tuple[str, NameEntry]] = []
        for code, name, dep, postal, pop in data["communes"]:
            postals = tuple(postal.split())
            self.communes[code] = Commune(code, name, dep, postals, int(pop))
            entry = NameEntry("commune", name, code)
            self.insee[code] = entry
            self._add_name(name, entry)
            short.extend((alias, entry) for alias in _short_names(name, int(pop)))
            for p in postals:
                self.postal.setdefault(p, []).append(code)
        for code, name, parent, kind, _dep in data["former"]:
            entry = NameEntry(
                "commune-deleguee" if kind == "d" else "commune-associee", name, parent
            )
            self.former_count += 1
            self._former_parts[parent] = self._former_parts.get(parent, 0) + 1
            self.insee.setdefault(code, entry)
            self._add_name(name, entry)
        official = set(self.names)
        for alias, code in read_codes(Path(path).with_name(TOWNS_FILE), "commune").items():
            if name_key(alias) not in official and code in self.communes:
                self._add_name(alias, NameEntry("commune", self.communes[code].name, code))
        # the biggest first: "Villefranche" is Villefranche-sur-Saône (36 000) before
        # Villefranche-de-Rouergue (11 000), whatever the order of the data file
        short.sort(key=lambda pair: -self.communes[pair[1].commune_code].population)
        for alias, entry in short:
            key = name_key(alias)
            # "Charleville" is said for Charleville-Mézières (45 000), not the village of
            # 262 in the Marne: a short name also leads to a town that dwarfs its bearers
            # (Le Blanc, 6 000, stays Le Blanc: Le Blanc-Mesnil is only ten times bigger).
            bearers = self.names.get(key, []) if key in official else []
            town = self.communes[entry.commune_code].population
            if key not in official or all(
                self._population(e) * DOMINANCE_RATIO <= town for e in bearers
            ):
                self._add_name(alias, entry)

    @cached_property
    def keys_by_departement(self) -> dict[str, list[str]]:
        """The names of each département's towns (current and former): where a name said
        with its département is read again when no town of that name lies there."""
        keys: dict[str, set[str]] = {}
        for key, entries in self.names.items():
            for entry in entries:
                keys.setdefault(self.communes[entry.commune_code].departement, set()).add(key)
        return {dep: sorted(found) for dep, found in keys.items()}

    @cached_property
    def sounds(self) -> dict[str, list[str]]:
        """How the names of towns sound (French phonetic code, per word) -> their keys: "nior"
        sounds like Niort, "kimper" like Quimper, "troie" like Troyes. Towns only: a typo aims
        at a place people know, and a hamlet's sound is shared by ordinary words."""
        sounds: dict[str, list[str]] = {}
        for key, entries in self.names.items():
            if max(self._population(e) for e in entries) >= SOUND_TOWN:
                sounds.setdefault(sound_of(key), []).append(key)
        return sounds

    def _population(self, entry: NameEntry) -> int:
        commune = self.communes.get(entry.commune_code)
        if commune is None:
            return UNKNOWN_POPULATION
        if entry.kind == "commune":
            return commune.population
        # a former commune's own count is not in the data: its share of the new commune's
        # (Villefranche is one of fourteen villages of Charny Orée de Puisaye, 4 900)
        return commune.population // max(1, self._former_parts.get(entry.commune_code, 1))

    def _read_arrondissements(self, data: dict[str, Any]) -> None:
        for code, name, city, postal, _pop in data["arrondissements"]:
            entry = NameEntry("arrondissement-municipal", name, city)
            self.insee[code] = entry
            for key in self._arrondissement_keys(name):
                self.names.setdefault(key, []).append(entry)
            for p in postal.split():
                if city not in self.postal.setdefault(p, []):
                    self.postal[p].append(city)

    def _index_keys(self) -> None:
        keys = set(self.names) | set(self.dep_names) | set(self.region_names)
        self.keys_by_len: dict[int, list[str]] = {}
        # one edit cannot touch both the first two and the last two letters of a name of 5+
        # letters: for distance 1 only names sharing either end need comparing (much faster)
        self.keys_by_edge: dict[tuple[str, int], list[str]] = {}
        for key in keys:
            self.keys_by_len.setdefault(len(key), []).append(key)
            self.keys_by_edge.setdefault(("<" + key[:2], len(key)), []).append(key)
            self.keys_by_edge.setdefault((key[-2:] + ">", len(key)), []).append(key)
        self.max_tokens = max(len(k.split()) for k in keys)
        self.first_tokens = frozenset(k.split()[0] for k in keys)

    def _add_name(self, name: str, entry: NameEntry) -> None:
        key = name_key(name)
        bucket = self.names.setdefault(key, [])
        if all(e.commune_code != entry.commune_code for e in bucket):
            bucket.append(entry)

    @staticmethod
    def _arrondissement_keys(name: str) -> list[str]:
        # "Paris 15e Arrondissement", "Marseille 1er Arrondissement"
        m = re.match(r"(\w+) (\d+)(?:er|e)", name)
        if not m:
            return [name_key(name)]
        city, n = m.group(1).lower(), m.group(2)
        suffix = "er" if n == "1" else "e"
        return [
            name_key(name),
            f"{city} {n}",
            f"{city} {n}{suffix}",
            f"{city} {n}{suffix} arrondissement",
            f"{city} {n} arrondissement",
        ]

    def dep_code(self, code: str) -> str | None:
        """The département code as the tables spell it ("2a" → "2A", "1" → "01"), or None."""
        code = code.strip().upper()
        if code.isdigit() and len(code) == 1:
            code = "0" + code
        return code if code in self.departements else None


def read_pays(path: Path) -> dict[str, str]:
    """Traditional area -> département code ("Soule" -> "64"); none when the file is absent.
    ValueError, in French, for a file that is not such a mapping of quoted codes."""
    return read_codes(path, "département")


def read_codes(path: Path, what: str) -> dict[str, str]:
    """A name -> code mapping (pays.yaml, towns.yaml); none when the file is absent.
    ValueError, in French, for a file that is not such a mapping of quoted codes."""
    if not path.exists():
        return {}
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8")) or {}
    except yamlfile.YAMLError as exc:
        raise ValueError(f"{path.name} : YAML illisible ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} : une liste « nom: code du {what} » est attendue")
    for name, code in data.items():
        if not isinstance(code, str):  # Bugey: 01 would be the number 1
            raise ValueError(
                f"{path.name} : {name} : le code « {code} » doit être entre guillemets"
            )
    return {str(name): code for name, code in data.items()}


def _short_names(name: str, population: int) -> list[str]:
    """Names people use for a commune besides its official one.

    "Château-Chinon (Ville)" is said without its parenthesis; a town's long hyphenated name
    by its first part ("Brive" for Brive-la-Gaillarde, "Romorantin", "Carhaix"), unless that
    part is a common word or a saint's name. Only added where no commune already bears the
    short name, or where the town dwarfs those that do (see `_read_communes`).
    """
    short: list[str] = []
    bare = re.sub(r"\s*\(.*?\)\s*$", "", name)
    if bare != name:
        short.append(bare)
    first = bare.split("-", 1)[0].strip()
    key = name_key(first)
    if (
        first != bare
        and population >= SHORT_NAME_TOWN
        # three letters only for a big town, never a word ("Aix", not "six" salariés)
        and (
            len(key) >= 4 or (len(key) == 3 and population >= BIG_TOWN and not is_french_word(key))
        )
        and key not in COMMON_WORDS
        and not set(key.split()) & SAINTS
        # below a big town, not a word of French either ("cinq" salariées is not
        # Cinq-Mars-la-Pile, "la roche", "les landes" are not towns said short)
        and (population >= BIG_TOWN or not any(is_french_word(w) for w in key.split()))
    ):
        short.append(first)
    return short
