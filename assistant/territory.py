"""Territory resolver: turn what a user says about where they are into INSEE codes.

The data is ``knowledge/territories/territories.json.gz`` (built by
``scripts/build_territories.py`` from the npm package ``@etalab/decoupage-administratif``).
Load it once with :func:`load_territories` (cached per path) and share the index.

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

:meth:`TerritoryIndex.find_in_text` looks for a mention inside a free sentence and is strict, to
avoid reading ordinary words as places (France has communes called Ver, Y, Eu, Plan, Ligné…):
a mention counts when it follows a preposition (``à``, ``au``, ``en``, ``sur``, ``vers``,
``dans le``, ``près de``, ``à côté de``, ``du côté de``…) or is capitalised; a name that is also
a common French word (or has 1–2 letters) must be capitalised, not at the start of a sentence,
and follow a preposition or be part of a longer name; after ``en`` or ``dans`` a lowercase word
only matches départements and regions. Lowercase exceptions, for people typing on a phone:
after ``à`` a commune of at least 50 000 inhabitants counts even when its name is a common word
(``"a tours"``, ``"a nice"``), and after ``dans``/``à`` a département or region whose name is a
common word counts unless a complement follows (``"dans la creuse"``, ``"a la reunion"``, but not
``"à la réunion de demain"``); a short list of what people write after ``à`` (``à fond``,
``à deux``, ``à domicile``…) never counts. Typos: a lowercase name after a preposition may have
one typo when it has several words (``"a carhaix plougeur"``); a lowercase one-word typo must
lead to a single département, region or town of 10 000+ inhabitants unless it has 8+ letters
(``"a la banque"`` is not Benque); a longer name with one typo beats an ambiguous exact prefix
(``"a clermont ferand"`` is Clermont-Ferrand, not one of the Clermont).

A 5-digit number is read as a postal code unless a unit follows it (``€``, ``euros``,
``habitants``…). A département number needs a cue (``dans le 23``, ``département 23``,
``(23)``).
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "DEFAULT_PATH",
    "Candidate",
    "MatchKind",
    "Resolution",
    "Status",
    "TerritoryIndex",
    "load_territories",
    "normalize",
]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "knowledge/territories/territories.json.gz"

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

DOMINANCE_RATIO = 20
UNKNOWN_POPULATION = 1000  # a former commune's population, for the dominance test only
BIG_TOWN = 10_000  # "à Vienne" is the town, not the département, from this population on
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


# --------------------------------------------------------------------------- normalisation

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "œ": "oe", "æ": "ae", "Œ": "OE"})
_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_TOKEN = re.compile(r"[^\W_]+")


_COMBINING = re.compile(r"[\u0300-\u036f]")


def _strip(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return _COMBINING.sub("", text).replace("ß", "ss")


def _fold(word: str) -> str:
    word = _strip(word)
    return _ABBREV.get(word, word)


def normalize(text: str) -> str:
    """Lowercase, strip accents, split on anything not a letter or digit, expand St/Ste."""
    return " ".join(_ABBREV.get(t, t) for t in _TOKEN.findall(_strip(text)))


# Words that name communes but mostly mean something else in a French sentence. Such a name
# needs a capital letter (see the module docstring). Also the short grammatical words.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMON_WORDS: frozenset[str] = _words(
    """
    a ai aide ain ais ait al albert alex alix aller alors anais ange anges angles anse aout
    appelle arbre arcs as asso aube aucun aude auge aussi autre avant avec avenir avion
    avoine avril bain bains bar baron barre barres bas beau belle bernard besoin bien blaise
    bois bon bonjour bonne bonnes bonnet bord bords bourg bout bras brie bu bus but ca cadre
    came camp campagne cannes car carre cave caves ce cela celle celles centre centres
    cercle cers ces chance change charge charme chasse chaud chaux chemin chene cher chez
    choisi choses chou choux ciel cite clair clefs clos coeur col colombe combe combes comme
    compas conte contes contre corps cote coteau cotes cour courant cours court courtes
    creche creuse croix cuve cyr dame dames de decembre degre demain demie denis des desert
    deux die don dons dos doubs doux du durant eau eaux ecole elan eloise emploi en encore
    entre es est et etang etangs etat ete eu eure eve faux fay fer ferme fete feu fevrier
    fille fin fins fleurs foi foire fond fonds font force forge forges fort fosse fosses
    four fours frais france francs gard gare gens gilles gland gorges grand grande grandes
    grands gras grasse grave gros guerre hommes hopital ifs il ile iles ils indre janvier
    job jour jours juif juillet juin jury la lac lacs lance landes laurent le lent leon les
    lie lies lieu ligne lignes lime linge lire lis lisse lit local loge loges loin loire
    long longue lot lu lucie lune lutter lys ma mai main maire maison mal manche marche
    marches mare marie marin mars martin mas me mer mere mes messe mi mine mines moi mon
    monde mont montagne monte monts mot motte moulin moyen mur mure murs ne neuf neuve ni
    nice nicole noce nord notre nous novembre noyer nuits octobre oie oise on or orange orne
    ou oui our paix palais par parc parce parent paris pas passage pays pere petit petite
    pierre pin pins place places plaine plan plans plat plats plein pont ponts port porte
    portes pour pre pres prince projet pu puits pure py quartier quatre que qui remy rene
    reunion riche rien rive rives robert roche roches roi romain rond ronde rose rouge route
    routes rue sa sables sac saint sainte salarie salle salles salon sans saules sec sees
    sel sens sept septembre serre si simon simple soi soir soleil somme son sont source
    sources sous sud suisse sur survie table tableau taille tarn temple temps termes terre
    terres thomas toi ton tour tours tout trait tres trois tu tulle un une union us val vals
    var venir vent vents ver verger vers vert verte vie vienne vieux vigne vignes ville
    villes vincent vire voie vous vue y yves
    """
)
# Département names in COMMON_WORDS (Somme, Cher, Nord, Manche…) still need a capital in text.

_SAINTS = frozenset({"saint", "sainte", "saints", "saintes"})
_ARTICLES = frozenset({"le", "la", "les", "l"})
_LINK_WORDS = frozenset(
    {
        "le",
        "la",
        "les",
        "l",
        "de",
        "du",
        "des",
        "d",
        "en",
        "sur",
        "sous",
        "et",
        "a",
        "au",
        "aux",
        "lez",
    }
)
# What people type after "à" that is not a place, even when a commune bears the name.
_AFTER_A_STOP: frozenset[str] = frozenset(
    {
        "vie",
        "fond",
        "peu",
        "peu pres",
        "tout",
        "tous",
        "toutes",
        "moi",
        "toi",
        "nous",
        "vous",
        "eux",
        "plusieurs",
        "temps",
        "temps plein",
        "temps partiel",
        "domicile",
        "cote",
        "la maison",
        "maison",
        "deux",
        "trois",
        "quatre",
        "cinq",
        "distance",
        "terme",
        "long terme",
        "court terme",
        "venir",
        "partir",
        "priori",
        "part",
        "jour",
        "mi temps",
        "plein temps",
    }
)
# After a lowercase common-word name ("dans la creuse", "a la reunion"), these words make it an
# ordinary noun: "à la réunion de demain", "dans la somme de 500 euros", "dans le lot de…".
_COMPLEMENT_AFTER = frozenset(
    {
        "de",
        "du",
        "des",
        "d",
        "avec",
        "pour",
        "sur",
        "a",
        "au",
        "aux",
        "ce",
        "cet",
        "cette",
        "demain",
        "hier",
        "aujourd",
        "mensuelle",
        "hebdomadaire",
        "annuelle",
        "publique",
        "qui",
        "que",
        "dont",
        "entre",
        "sans",
    }
)
_UNITS = re.compile(
    r"\s*(?:€|k€|eur\b|euros?\b|e\b|habitants?\b|hab\b|personnes?\b|salari|adh[ée]rent|"
    r"b[ée]n[ée]voles?\b|membres?\b|m2|m²|km|ans?\b|%|h\b|heures?\b|jours?\b|mois\b|fois\b)",
    re.IGNORECASE,
)

_REGION_ALIASES: dict[str, str] = {
    "idf": "11",
    "ile de france": "11",
    "region parisienne": "11",
    "centre val de loire": "24",
    "region centre": "24",
    "bourgogne": "27",
    "franche comte": "27",
    "bourgogne franche comte": "27",
    "bfc": "27",
    "normandie": "28",
    "haute normandie": "28",
    "basse normandie": "28",
    "hauts de france": "32",
    "nord pas de calais": "32",
    "picardie": "32",
    "grand est": "44",
    "alsace": "44",
    "lorraine": "44",
    "champagne ardenne": "44",
    "pays de la loire": "52",
    "pays de loire": "52",
    "bretagne": "53",
    "nouvelle aquitaine": "75",
    "aquitaine": "75",
    "limousin": "75",
    "poitou charentes": "75",
    "occitanie": "76",
    "languedoc roussillon": "76",
    "midi pyrenees": "76",
    "languedoc": "76",
    "auvergne rhone alpes": "84",
    "aura": "84",
    "auvergne": "84",
    "rhone alpes": "84",
    "provence alpes cote d azur": "93",
    "paca": "93",
    "provence": "93",
    "region sud": "93",
    "corse": "94",
    "guadeloupe": "01",
    "martinique": "02",
    "guyane": "03",
    "reunion": "04",
    "la reunion": "04",
    "ile de la reunion": "04",
    "mayotte": "06",
}
_DEPARTEMENT_ALIASES: dict[str, str] = {
    "reunion": "974",
    "ile de la reunion": "974",
    "guyane francaise": "973",
    "corse du sud": "2A",
    "haute corse": "2B",
    "seine saint denis": "93",
    "territoire de belfort": "90",
    "belfort": "90",
}

# Prepositions: the word(s) just before a mention.
_STRONG_BEFORE_DE = frozenset(
    {
        "pres",
        "cote",
        "proche",
        "autour",
        "environs",
        "alentours",
        "region",
        "secteur",
        "coin",
        "loin",
        "agglo",
        "agglomeration",
        "banlieue",
        "metropole",
        "originaire",
        "sortie",
        "nord",
        "sud",
        "est",
        "ouest",
        "centre",
        "commune",
        "ville",
        "village",
        "departement",
        "environ",
    }
)
_STRONG = frozenset(
    {
        "a",
        "au",
        "aux",
        "sur",
        "vers",
        "en",
        "chez",
        "habite",
        "base",
        "basee",
        "bases",
        "basees",
        "installe",
        "installee",
        "installes",
        "installees",
    }
)
_DANS_ARTICLES = frozenset({"le", "la", "l", "les"})

MentionClass = Literal["commune", "departement", "region"]


@dataclass(frozen=True, slots=True)
class _Commune:
    code: str
    name: str
    departement: str
    postal_codes: tuple[str, ...]
    population: int


@dataclass(frozen=True, slots=True)
class _NameEntry:
    kind: MatchKind  # commune, commune-deleguee, commune-associee, arrondissement-municipal
    name: str
    commune_code: str


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    norm: str
    start: int
    end: int
    capital: bool
    initial: bool  # first word of a sentence


@dataclass(slots=True)
class _Mention:
    resolution: Resolution
    score: float
    start: int
    # a capitalised commune name opening a sentence ("Valence dans la Drôme"): it only counts
    # when a département, region or postal code mentioned elsewhere contains it
    tentative: bool = False


class TerritoryIndex:
    """All French communes, départements and regions, indexed for resolution."""

    def __init__(self, path: Path | str = DEFAULT_PATH) -> None:
        with gzip.open(Path(path), "rb") as fh:
            data: dict[str, Any] = json.loads(fh.read().decode("utf-8"))
        self.source: dict[str, Any] = data["source"]
        self._regions: dict[str, str] = {code: name for code, name in data["regions"]}
        self._departements: dict[str, tuple[str, str]] = {
            code: (name, region) for code, name, region in data["departements"]
        }
        self._communes: dict[str, _Commune] = {}
        self._postal: dict[str, list[str]] = {}
        self._insee: dict[str, _NameEntry] = {}
        self._names: dict[str, list[_NameEntry]] = {}
        self._former_count = 0
        for code, name, dep, postal, pop in data["communes"]:
            postals = tuple(postal.split())
            self._communes[code] = _Commune(code, name, dep, postals, int(pop))
            entry = _NameEntry("commune", name, code)
            self._insee[code] = entry
            self._add_name(name, entry)
            for p in postals:
                self._postal.setdefault(p, []).append(code)
        for code, name, parent, kind, _dep in data["former"]:
            entry = _NameEntry(
                "commune-deleguee" if kind == "d" else "commune-associee", name, parent
            )
            self._former_count += 1
            self._insee.setdefault(code, entry)
            self._add_name(name, entry)
        for code, name, city, postal, _pop in data["arrondissements"]:
            entry = _NameEntry("arrondissement-municipal", name, city)
            self._insee[code] = entry
            for key in self._arrondissement_keys(name):
                self._names.setdefault(key, []).append(entry)
            for p in postal.split():
                if city not in self._postal.setdefault(p, []):
                    self._postal[p].append(city)
        for old, new in data["old_codes"].items():
            if old not in self._insee and new in self._communes:
                self._insee[old] = _NameEntry("commune", self._communes[new].name, new)

        self._dep_names: dict[str, str] = {}
        for code, (name, _region) in self._departements.items():
            self._dep_names[normalize(name)] = code
        for alias, code in _DEPARTEMENT_ALIASES.items():
            self._dep_names.setdefault(alias, code)
        self._region_names: dict[str, str] = {normalize(n): c for c, n in self._regions.items()}
        for alias, code in _REGION_ALIASES.items():
            self._region_names.setdefault(alias, code)
        self._single_dep_regions: dict[str, str] = {}
        for code, (_name, region) in self._departements.items():
            self._single_dep_regions[region] = "" if region in self._single_dep_regions else code

        keys = set(self._names) | set(self._dep_names) | set(self._region_names)
        self._keys_by_len: dict[int, list[str]] = {}
        # one edit cannot touch both the first two and the last two letters of a name of 5+
        # letters: for distance 1 only names sharing either end need comparing (much faster)
        self._keys_by_edge: dict[tuple[str, int], list[str]] = {}
        for key in keys:
            self._keys_by_len.setdefault(len(key), []).append(key)
            self._keys_by_edge.setdefault(("<" + key[:2], len(key)), []).append(key)
            self._keys_by_edge.setdefault((key[-2:] + ">", len(key)), []).append(key)
        self._max_tokens = max(len(k.split()) for k in keys)
        self._first_tokens = frozenset(k.split()[0] for k in keys)

    # ------------------------------------------------------------------ small lookups

    @property
    def counts(self) -> dict[str, int]:
        return {
            "regions": len(self._regions),
            "departements": len(self._departements),
            "communes": len(self._communes),
            "former_communes": self._former_count,
            "postal_codes": len(self._postal),
            "names": len(self._names),
        }

    @property
    def departement_codes(self) -> list[str]:
        return sorted(self._departements)

    @property
    def region_codes(self) -> list[str]:
        return sorted(self._regions)

    def departement_name(self, code: str) -> str | None:
        dep = self._departements.get(self._dep_code(code) or "")
        return dep[0] if dep else None

    def region_name(self, code: str) -> str | None:
        return self._regions.get(code)

    def region_of(self, departement_code: str) -> str | None:
        dep = self._departements.get(self._dep_code(departement_code) or "")
        return dep[1] if dep else None

    def departements_of(self, region_code: str) -> list[str]:
        return sorted(c for c, (_n, r) in self._departements.items() if r == region_code)

    def commune(self, code: str) -> tuple[str, str] | None:
        """(name, département) of a current commune by INSEE code."""
        c = self._communes.get(code)
        return (c.name, c.departement) if c else None

    def _dep_code(self, code: str) -> str | None:
        code = code.strip().upper()
        if code.isdigit() and len(code) == 1:
            code = "0" + code
        return code if code in self._departements else None

    # ------------------------------------------------------------------ building blocks

    def _add_name(self, name: str, entry: _NameEntry) -> None:
        key = normalize(name)
        bucket = self._names.setdefault(key, [])
        if all(e.commune_code != entry.commune_code for e in bucket):
            bucket.append(entry)

    @staticmethod
    def _arrondissement_keys(name: str) -> list[str]:
        # "Paris 15e Arrondissement", "Marseille 1er Arrondissement"
        m = re.match(r"(\w+) (\d+)(?:er|e)", name)
        if not m:
            return [normalize(name)]
        city, n = m.group(1).lower(), m.group(2)
        suffix = "er" if n == "1" else "e"
        return [
            normalize(name),
            f"{city} {n}",
            f"{city} {n}{suffix}",
            f"{city} {n}{suffix} arrondissement",
            f"{city} {n} arrondissement",
        ]

    def _candidate(self, entry: _NameEntry) -> Candidate:
        c = self._communes[entry.commune_code]
        dep_name, region = self._departements[c.departement]
        return Candidate(
            kind=entry.kind,
            name=entry.name,
            commune=c.name,
            commune_code=c.code,
            departement=c.departement,
            departement_name=dep_name,
            region=region,
            region_name=self._regions[region],
            population=c.population if entry.kind == "commune" else None,
        )

    def _dep_resolution(
        self, query: str, code: str, kind: MatchKind = "departement", matched: str | None = None
    ) -> Resolution:
        name, region = self._departements[code]
        return Resolution(
            status="found",
            query=query,
            kind=kind,
            matched=matched or name,
            departement=code,
            departement_name=name,
            region=region,
            region_name=self._regions[region],
        )

    def _region_resolution(self, query: str, code: str) -> Resolution:
        dep = self._single_dep_regions.get(code) or None
        return Resolution(
            status="found",
            query=query,
            kind="region",
            matched=self._regions[code],
            departement=dep,
            departement_name=self._departements[dep][0] if dep else None,
            region=code,
            region_name=self._regions[code],
        )

    def _entries_resolution(
        self, query: str, entries: list[_NameEntry], *, fuzzy: bool = False
    ) -> Resolution:
        """Found, or ambiguous with candidates ranked by population (see rule 4)."""
        by_commune: dict[str, _NameEntry] = {}
        for e in entries:
            prev = by_commune.get(e.commune_code)
            if prev is None or (e.kind == "commune" and prev.kind != "commune"):
                by_commune[e.commune_code] = e
        cands = [self._candidate(e) for e in by_commune.values()]
        cands.sort(key=lambda c: (c.population is None, -(c.population or 0), c.commune_code))
        if not cands:
            return Resolution(status="not_found", query=query)
        top = cands[0]
        if len(cands) > 1:
            second = cands[1].population
            second_eff = UNKNOWN_POPULATION if second is None else max(second, 1)
            if (top.population or 0) <= DOMINANCE_RATIO * second_eff:
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

    def _postal_resolution(self, query: str, postal: str) -> Resolution | None:
        codes = self._postal.get(postal)
        if not codes:
            return None
        entries = [_NameEntry("commune", self._communes[c].name, c) for c in codes]
        cands = sorted(
            (self._candidate(e) for e in entries),
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
        base = self._dep_resolution(query, cands[0].departement, "postal_code", postal)
        update: dict[str, Any] = {"postal_code": postal}
        if len(cands) == 1:
            update |= {"commune": cands[0].commune, "commune_code": cands[0].commune_code}
        else:
            update["candidates"] = cands
        return base.model_copy(update=update)

    def _insee_resolution(self, query: str, code: str) -> Resolution | None:
        entry = self._insee.get(code.upper())
        if entry is None:
            return None
        res = self._entries_resolution(query, [entry])
        return res.model_copy(update={"kind": "insee_code", "matched": entry.name})

    def _name_resolution(self, query: str, key: str, prep: str | None) -> Resolution | None:
        """Exact (normalised) name lookup, with the département/region precedence rule."""
        dep = self._dep_names.get(key)
        region = self._region_names.get(key)
        entries = self._names.get(key, [])
        if entries and prep in ("a", "au", "aux") and (dep or region):
            biggest = max(self._communes[e.commune_code].population for e in entries)
            if biggest >= BIG_TOWN:
                return self._entries_resolution(query, entries)
        if dep:
            inside = [e for e in entries if self._communes[e.commune_code].departement == dep]
            if inside and prep in ("en", "dans"):
                # "en Corrèze" is the département, "dans Paris" still the city
                inside = [
                    e for e in inside if self._communes[e.commune_code].population >= BIG_TOWN
                ]
            if inside:  # "Paris", "Belfort": the commune is in the département of that name
                return self._entries_resolution(query, inside)
            return self._dep_resolution(query, dep)
        if region:
            return self._region_resolution(query, region)
        if entries:
            return self._entries_resolution(query, entries)
        return None

    def _fuzzy_keys(self, key: str, limit: int | None = None) -> list[str]:
        n = len(key.replace(" ", ""))
        if n < 5:
            return []
        max_d = 1 if n <= 7 else 2 if n <= 11 else 3
        if limit is not None:
            max_d = min(max_d, limit)
        choices: list[str] = []
        for length in range(len(key) - max_d, len(key) + max_d + 1):
            if max_d == 1:
                choices.extend(self._keys_by_edge.get(("<" + key[:2], length), []))
                choices.extend(self._keys_by_edge.get((key[-2:] + ">", length), []))
            else:
                choices.extend(self._keys_by_len.get(length, []))
        found = process.extract(key, choices, scorer=OSA.distance, score_cutoff=max_d, limit=50)
        if not found:
            return []
        best = min(d for _k, d, _i in found)
        return sorted({k for k, d, _i in found if d == best})

    def _fuzzy_resolution(
        self, query: str, key: str, limit: int | None = None
    ) -> Resolution | None:
        if key in COMMON_WORDS or all(t in COMMON_WORDS for t in key.split()):
            return None
        keys = self._fuzzy_keys(key, limit)
        if not keys:
            return None
        for k in keys:  # a département or region name wins
            if k in self._dep_names:
                return self._dep_resolution(query, self._dep_names[k]).model_copy(
                    update={"fuzzy": True}
                )
            if k in self._region_names:
                return self._region_resolution(query, self._region_names[k]).model_copy(
                    update={"fuzzy": True}
                )
        entries = [e for k in keys for e in self._names.get(k, [])]
        return self._entries_resolution(query, entries, fuzzy=True)

    # ------------------------------------------------------------------ public API

    def resolve(self, text: str) -> Resolution:
        """Resolve a short answer to "where are you?" (name, code, number, or a phrase)."""
        key = normalize(text)
        if not key:
            return Resolution(status="not_found", query=text)
        compact = key.replace(" ", "")
        if re.fullmatch(r"\d{5}|2[ab]\d{3}", compact):
            res = self._postal_resolution(text, compact) if compact.isdigit() else None
            res = res or self._insee_resolution(text, compact)
            if res:
                return res
        dep = self._departement_number(key)
        if dep is not None:
            return dep if isinstance(dep, Resolution) else self._dep_choice(text, dep)
        for prefix, prep in _RESOLVE_PREFIXES:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                res = None
                if prep in ("au", "du"):  # "au Mans" = "à Le Mans"
                    res = self._name_resolution(text, "le " + rest, prep)
                if prep in ("aux", "des"):
                    res = self._name_resolution(text, "les " + rest, prep)
                res = res or self._name_resolution(text, rest, prep)
                if res:
                    return res
        res = self._name_resolution(text, key, None)
        if res:
            return res
        found = self.find_in_text(text, lenient=True)
        if found and found.status == "found":
            return found.model_copy(update={"query": text})
        # typos in the name only: "au marche" is not "La Marche"
        rest = next((key[len(p) :] for p, _ in _RESOLVE_PREFIXES if key.startswith(p)), key)
        fuzzy = self._fuzzy_resolution(text, rest or key)
        if fuzzy and (fuzzy.status == "found" or not found):
            return fuzzy
        if found:
            return found.model_copy(update={"query": text})
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
        norm = self._dep_code(code)
        if norm is None:
            return None
        return self._dep_resolution(key, norm)

    def _dep_choice(self, query: str, code: str) -> Resolution:
        # "20": the former single Corsican département.
        cands = []
        for dep in ("2A", "2B"):
            name, region = self._departements[dep]
            cands.append(
                Candidate(
                    kind="departement",
                    name=name,
                    departement=dep,
                    departement_name=name,
                    region=region,
                    region_name=self._regions[region],
                )
            )
        return Resolution(
            status="ambiguous",
            query=query,
            kind="departement",
            matched=code,
            region="94",
            region_name=self._regions["94"],
            candidates=cands,
        )

    # ------------------------------------------------------------------ free text

    def find_in_text(self, message: str, *, lenient: bool = False) -> Resolution | None:
        """The territory a French sentence mentions, or None. Strict about ordinary words.

        ``lenient`` (used by :meth:`resolve`) also accepts lowercase names without a
        preposition.
        """
        tokens = _tokenize(message)
        if not tokens:
            return None
        mentions: list[_Mention] = []
        mentions.extend(self._postal_mentions(message))
        mentions.extend(self._number_mentions(message, lenient))
        mentions.extend(self._name_mentions(message, tokens, lenient))
        tentative = [m for m in mentions if m.tentative]
        mentions = [m for m in mentions if not m.tentative]
        if not mentions:
            return None
        mentions.sort(key=lambda m: (-m.score, m.start))
        best = mentions[0]
        if best.resolution.kind in ("departement", "region", "postal_code"):
            # "Valence dans la Drôme": a commune inside the named area is more precise
            for other in mentions[1:] + tentative:
                if other.resolution.kind in ("departement", "region", "postal_code"):
                    continue
                narrowed = self._narrow(other.resolution, [best])
                if narrowed is not None and narrowed.status == "found":
                    return narrowed
                o = other.resolution
                if o.status == "found" and (
                    o.departement == best.resolution.departement
                    or (best.resolution.kind == "region" and o.region == best.resolution.region)
                ):
                    return o
            for other in mentions[1:] + tentative:
                # "Saint-Denis en Bretagne": no candidate there, the commune stays ambiguous
                o = other.resolution
                if (
                    o.status == "ambiguous"
                    and o.kind is None
                    and other.start < best.start
                    and not re.search(r"[.!?\n]", message[other.start : best.start])
                ):
                    return o
        if best.resolution.status == "ambiguous" and best.resolution.candidates:
            narrowed = self._narrow(best.resolution, mentions[1:])
            if narrowed is not None:
                return narrowed
        return best.resolution

    def _narrow(self, res: Resolution, others: list[_Mention]) -> Resolution | None:
        """Use a département/region mentioned elsewhere to pick among candidates."""
        for other in others:
            o = other.resolution
            if o.status != "found" or o.kind not in ("departement", "region", "postal_code"):
                continue
            keep = [
                c
                for c in res.candidates
                if (o.kind == "region" and c.region == o.region)
                or (o.kind != "region" and c.departement == o.departement)
            ]
            if len(keep) == 1:
                c = keep[0]
                return Resolution(
                    status="found",
                    query=res.query,
                    kind=c.kind,
                    matched=c.name,
                    commune=c.commune,
                    commune_code=c.commune_code,
                    departement=c.departement,
                    departement_name=c.departement_name,
                    region=c.region,
                    region_name=c.region_name,
                    fuzzy=res.fuzzy,
                )
            if len(keep) > 1:
                return res.model_copy(update={"candidates": keep})
        return None

    def _postal_mentions(self, message: str) -> list[_Mention]:
        out: list[_Mention] = []
        for m in re.finditer(r"(?<![\d.,])(\d{2}) ?(\d{3})(?![\d.,]*\d)", message):
            if _UNITS.match(message, m.end()):
                continue
            code = m.group(1) + m.group(2)
            if " " in m.group(0) and not re.search(r"postal|cp\b", message[: m.start()], re.I):
                continue
            res = self._postal_resolution(message, code)
            if res is not None:
                out.append(_Mention(res, 6.0, m.start()))
        return out

    def _number_mentions(self, message: str, lenient: bool) -> list[_Mention]:
        out: list[_Mention] = []
        bare = r"|(?<![\w,.])" if lenient else ""  # "Saint-Denis 974" in resolve()
        pattern = re.compile(
            r"(?:\bdans\s+l[ea]\s+"
            + bare
            + r"|\bdu\s+|\bd[ée]partement\s+(?:du\s+|n°\s*)?|\bdept\.?\s*|"
            r"\bdpt\.?\s*|\bd[ée]p\.?\s+|\ben\s+|\(\s*)(\d{2,3}|2\s?[abAB])\b(?!\s*[\d/h:])",
            re.IGNORECASE,
        )
        for m in pattern.finditer(message):
            after = message[m.end() :]
            if _UNITS.match(after) or re.match(r"\s*(?:au|et|ou|-)\s*\d", after):
                continue
            if m.group(0).lower().startswith("en") and not m.group(1)[-1].isalpha():
                continue  # "en 2024", "en 23" is too weak
            if m.group(0).startswith("(") and not after.lstrip().startswith(")"):
                continue
            code = self._dep_code(m.group(1).replace(" ", ""))
            if code is None:
                continue
            out.append(_Mention(self._dep_resolution(message, code), 4.0, m.start()))
        return out

    def _name_mentions(self, message: str, tokens: list[_Token], lenient: bool) -> list[_Mention]:
        out: list[_Mention] = []
        whole = len(tokens) <= self._max_tokens
        i = 0
        n = len(tokens)
        while i < n:
            if i > 0 and tokens[i - 1].norm == "dans" and tokens[i].norm in _DANS_ARTICLES:
                # "dans la Creuse" is the département, not the commune La Creuse (70)
                area = self._area_after_article(message, tokens, i + 1, lenient, whole)
                if area is not None:
                    out.append(area[0])
                    i = area[1]
                    continue
            prep, strength = _preposition(tokens, i)
            found: _Mention | None = None
            if tokens[i].norm in self._first_tokens or prep in ("au", "du", "aux", "des"):
                for j in range(min(n, i + self._max_tokens), i, -1):
                    found = self._try_span(message, tokens, i, j, prep, strength, lenient, whole)
                    if found:
                        longer = self._longer_fuzzy(message, tokens, i, j, found)
                        if longer is not None:
                            found, j = longer
                        out.append(found)
                        i = j
                        break
            if found is None:
                fz = self._try_fuzzy(message, tokens, i, prep, strength)
                if fz:
                    out.append(fz)
                i += 1
        return out

    def _area_after_article(
        self, message: str, tokens: list[_Token], i: int, lenient: bool, whole: bool
    ) -> tuple[_Mention, int] | None:
        """A département or region name starting at token i (just after "dans le/la/les")."""
        if i >= len(tokens) or tokens[i].norm not in self._first_tokens:
            return None
        prep, strength = _preposition(tokens, i)
        for j in range(min(len(tokens), i + self._max_tokens), i, -1):
            key = " ".join(t.norm for t in tokens[i:j])
            if key not in self._dep_names and key not in self._region_names:
                continue
            found = self._try_span(message, tokens, i, j, prep, strength, lenient, whole)
            if found is not None and found.resolution.kind in ("departement", "region"):
                return found, j
        return None

    def _longer_fuzzy(
        self, message: str, tokens: list[_Token], i: int, j: int, exact: _Mention
    ) -> tuple[_Mention, int] | None:
        """ "a clermont ferand": one typo in a longer name beats an ambiguous exact prefix."""
        if exact.resolution.status != "ambiguous":
            return None
        for k in range(j + 1, min(len(tokens), i + 4) + 1):
            if not _extension_ok(tokens[j:k]):
                break
            key = " ".join(t.norm for t in tokens[i:k])
            res = self._fuzzy_resolution(message, key, limit=1)
            if res is not None and res.status == "found":
                return _Mention(res, exact.score + 0.2 * (k - j), exact.start), k
        return None

    def _try_span(
        self,
        message: str,
        tokens: list[_Token],
        i: int,
        j: int,
        prep: str | None,
        strength: int,
        lenient: bool,
        whole: bool,
    ) -> _Mention | None:
        span = tokens[i:j]
        key = " ".join(t.norm for t in span)
        keys = [key]
        if prep in ("au", "du"):
            keys.insert(0, "le " + key)
        elif prep in ("aux", "des"):
            keys.insert(0, "les " + key)
        for k in keys:
            klass = self._class_of(k)
            if klass is None:
                continue
            after = [t.norm for t in tokens[j : j + 2] if not t.initial]
            tentative = False
            if not self._accept(
                span, k, klass, prep, strength, lenient, whole and j - i == len(tokens), after
            ):
                if not self._tentative_ok(span, k, klass, strength):
                    continue
                tentative = True
            res = self._name_resolution(message, k, prep)
            if res is None:
                continue
            if tentative:
                return _Mention(res, 0.0, span[0].start, tentative=True)
            score = 1.0 + strength + (1.0 if span[0].capital else 0.0) + 0.2 * (j - i)
            if klass == "commune":
                score += 0.5
            return _Mention(res, score, span[0].start)
        return None

    def _class_of(self, key: str) -> MentionClass | None:
        if key in self._dep_names:
            return "departement"
        if key in self._region_names:
            return "region"
        if key in self._names:
            return "commune"
        return None

    def _accept(
        self,
        span: list[_Token],
        key: str,
        klass: MentionClass,
        prep: str | None,
        strength: int,
        lenient: bool,
        alone: bool,
        after: list[str],
    ) -> bool:
        significant = [t for t in key.split() if t not in _LINK_WORDS]
        sig_tokens = [t for t in span if t.norm not in _LINK_WORDS] or span
        capital = sig_tokens[0].capital
        saint = len(significant) > 1 and significant[0] in _SAINTS
        common = not saint and (
            not significant
            or all(t in COMMON_WORDS or len(t) <= 2 for t in significant)
            or key in COMMON_WORDS
        )
        if common and capital and (not sig_tokens[0].initial or alone or lenient):
            # a capital not explained by the start of a sentence, and some context
            return strength > 0 or len(significant) > 1 or alone or lenient
        if common:
            return self._lowercase_common_ok(key, klass, prep, strength, alone, after, lenient)
        if alone or lenient:
            return True
        if strength >= 2:
            # after "en"/"dans", a lowercase word is a département or region, not a commune
            return not (prep in ("en", "dans") and klass == "commune" and not capital)
        if strength == 1:  # weak: "de", "du", "le"
            return capital
        # no preposition: a capitalised name, not just the first word of a sentence unless
        # it is long enough not to be a greeting or a first name
        if not capital:
            return False
        return not sig_tokens[0].initial or len(significant) > 1 or klass != "commune"

    @staticmethod
    def _tentative_ok(span: list[_Token], key: str, klass: MentionClass, strength: int) -> bool:
        """A capitalised commune opening a sentence, to confirm by a wider area mentioned."""
        return (
            klass == "commune"
            and strength == 0
            and len(span) == 1
            and span[0].capital
            and span[0].initial
            and key not in COMMON_WORDS
            and len(key) > 2
        )

    def _lowercase_common_ok(
        self,
        key: str,
        klass: MentionClass,
        prep: str | None,
        strength: int,
        alone: bool,
        after: list[str],
        lenient: bool,
    ) -> bool:
        """A lowercase name that is also a common word: "a tours", "dans la creuse"."""
        if alone and lenient:
            return True
        if strength < 2:
            return False
        bare = key[3:] if key.startswith(("le ", "la ", "les ")) else key
        bare = bare[2:] if bare.startswith("l ") else bare
        if prep == "a" and (key in _AFTER_A_STOP or bare in _AFTER_A_STOP):
            return False
        if klass == "commune":
            # a big town after "à" ("a tours", "a nice"), not "à tours de bras"
            if prep not in ("a", "au", "aux") or after[:2] == ["de", "bras"]:
                return False
            if lenient and self._biggest(key) >= BIG_TOWN:
                return True
            return self._biggest(key) >= BIG_CITY
        # "dans la creuse", "a la reunion", not "à la réunion de demain", "dans la somme de…"
        if after and after[0] in _COMPLEMENT_AFTER:
            return False
        return lenient or prep in ("dans", "a")

    def _lowercase_fuzzy_ok(self, res: Resolution, key: str) -> bool:
        """A lowercase typo must lead somewhere definite; a short one ("a la banque" is not
        Benque, "a limoge" is Limoges) only to a département, a region or a town."""
        if res.status != "found":
            return False
        if " " in key or len(key) >= 8 or res.commune_code is None:
            return True
        c = self._communes.get(res.commune_code)
        return c is not None and c.population >= BIG_TOWN

    def _biggest(self, key: str) -> int:
        return max(
            (self._communes[e.commune_code].population for e in self._names.get(key, [])),
            default=0,
        )

    def _try_fuzzy(
        self, message: str, tokens: list[_Token], i: int, prep: str | None, strength: int
    ) -> _Mention | None:
        tok = tokens[i]
        if strength < 2 and not (tok.capital and not tok.initial):
            return None
        if prep in ("en", "dans") and not tok.capital:
            return None
        if tok.norm in COMMON_WORDS and tok.norm not in _LINK_WORDS:
            return None
        if prep == "a" and not tok.capital and tok.norm in _AFTER_A_STOP:
            return None
        best: _Mention | None = None
        for j in range(i + 1, min(len(tokens), i + 4) + 1):
            span = tokens[i:j]
            limit: int | None = None
            if j - i > 1 and not span[-1].capital and not span[0].capital:
                # lowercase after "à", "près de"…: "a carhaix plougeur", one typo at most
                if strength < 2 or not _extension_ok(span[1:]):
                    break
                limit = 1
            key = " ".join(t.norm for t in span)
            if len(key) < 6:
                continue
            res = self._fuzzy_resolution(message, key, limit)
            if res is not None and not tok.capital and not self._lowercase_fuzzy_ok(res, key):
                continue
            if res is not None and res.status != "not_found":
                score = 0.5 + strength + (1.0 if tok.capital else 0.0)
                best = _Mention(res, score, tok.start)
        return best


def _extension_ok(extra: list[_Token]) -> bool:
    """Words that may continue a name: same sentence, no common word, no trailing "de"."""
    if not extra or extra[-1].norm in _LINK_WORDS:
        return False
    return all(
        not t.initial and (t.norm in _LINK_WORDS or t.norm not in COMMON_WORDS) for t in extra
    )


_RESOLVE_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    (p + " ", prep)
    for p, prep in (
        ("a cote de", "de"),
        ("du cote de", "de"),
        ("pres de", "de"),
        ("proche de", "de"),
        ("autour de", "de"),
        ("vers", "vers"),
        ("dans le", "dans"),
        ("dans la", "dans"),
        ("dans l", "dans"),
        ("dans les", "dans"),
        ("en", "en"),
        ("a", "a"),
        ("au", "au"),
        ("aux", "aux"),
        ("sur", "sur"),
        ("du", "du"),
        ("de", "de"),
        ("d", "de"),
        ("des", "des"),
        ("chez", "chez"),
        ("region", "de"),
    )
)


def _tokenize(message: str) -> list[_Token]:
    text = message.translate(_APOSTROPHES)
    shouting = text.isupper()
    tokens: list[_Token] = []
    for m in _TOKEN.finditer(text):
        before = text[: m.start()].rstrip(" \t\"'«»“”(-")
        initial = not before or before[-1] in ".!?:;\n…"
        word = m.group(0)
        tokens.append(
            _Token(
                text=word,
                norm=_fold(word),
                start=m.start(),
                end=m.end(),
                capital=word[0].isupper() and not shouting,
                initial=initial,
            )
        )
    return tokens


def _preposition(tokens: list[_Token], i: int) -> tuple[str | None, int]:
    """The preposition before token i and its strength: 2 strong, 1 weak, 0 none."""
    if i == 0:
        return None, 0
    p1 = tokens[i - 1].norm
    p2 = tokens[i - 2].norm if i >= 2 else ""
    p3 = tokens[i - 3].norm if i >= 3 else ""
    if p1 in _DANS_ARTICLES and p2 == "dans":
        return "dans", 2
    if p1 in ("de", "d", "du", "des") and (p2 in _STRONG_BEFORE_DE or p3 == "pres"):
        return p1, 2
    if p1 in ("la", "l", "le", "les") and p2 in ("a", "de", "d", "pres", "vers", "sur"):
        return ("a" if p2 == "a" else "de"), 2 if p2 != "de" or p3 in _STRONG_BEFORE_DE else 1
    if p1 in _STRONG or p1 == "dans":
        return p1, 2
    if p1 in ("de", "d", "du", "des", "le", "la", "l", "les"):
        return p1, 1
    return None, 0


@lru_cache(maxsize=4)
def _load_cached(path: str) -> TerritoryIndex:
    return TerritoryIndex(path)


def load_territories(path: Path | str = DEFAULT_PATH) -> TerritoryIndex:
    """The index for ``path``, built once per process and path (cached)."""
    return _load_cached(str(Path(path).resolve()))
