"""Making the places of one message agree: a town and the area named beside it.

"Valence dans la Drôme", "Le Port, La Réunion", "Montreuil 93": when a message names a place
and an area (or a département code), the area settles which town is meant, and a town that
does not lie in the area is read again inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.territory.models import NameEntry, Resolution
from assistant.territory.models import found as settled_on
from assistant.territory.resolutions import Resolver, typo_distance
from assistant.territory.tables import Tables
from assistant.territory.text import name_key
from assistant.territory.words import DANS_ARTICLES, UNITS
from assistant.text import fold

__all__ = [
    "Mention",
    "code_after",
    "home_before_targets",
    "longer_name_in",
    "longer_name_near",
    "narrow",
    "reread_in_area",
    "said_in_full",
    "spelt_with_its_accents",
]


@dataclass(slots=True)
class Mention:
    resolution: Resolution
    score: float
    start: int
    # a capitalised commune name opening a sentence ("Valence dans la Drôme"): it only counts
    # when a département, region or postal code mentioned elsewhere contains it
    tentative: bool = False
    key: str = ""  # the normalised name read (empty for codes)
    end: int = 0  # where the mention ends in the message
    toward: bool = False  # named as where to expand ("des antennes dans les Ardennes")
    weak: bool = False  # after "de"/"du" only: "du vin du Périgord" may not be where one is
    pays: bool = False  # a traditional area (pays.yaml): its edges are fuzzy, it only narrows


def reread_in_area(
    tables: Tables, resolver: Resolver, best: Mention, others: list[Mention]
) -> Resolution | None:
    """ "Le Port, La Réunion": a town and an area that disagree — the area wins, and the
    town's name is read again inside it (with or without its article, or as the start of a
    longer name). A traditional pays only does the reading again: with no such town inside
    it, the town named stays."""
    place = best.resolution
    if place.status != "found" or place.commune_code is None or not best.key:
        return None
    for other in others:
        area = other.resolution
        if other.toward or other.weak:
            continue  # "à Reims… des antennes dans les Ardennes", "à Paris, du vin de Dordogne"
        if area.status != "found" or area.kind not in ("departement", "region"):
            continue
        if (area.kind == "region" and place.region == area.region) or (
            area.kind == "departement" and place.departement == area.departement
        ):
            return None
        bare = best.key.split(" ", 1)[-1] if best.key.split()[0] in DANS_ARTICLES else best.key
        names = [bare, *(f"{article} {bare}" for article in DANS_ARTICLES)]
        entries = [e for name in names for e in tables.names.get(name, [])]
        inside = [e for e in entries if _in_area(tables, e, area)]
        if not inside and area.kind == "departement":
            inside = _longer_names_inside(tables, bare, area.departement or "")
        if not inside and area.kind == "departement":
            # "Langre (Haute-Marne)", "Baune (Côte-d'Or)": a typo, read again among the
            # département's towns (Langres, Beaune), even when it spells a town elsewhere
            inside = read_again_in(tables, bare, area.departement or "")
        elif not inside and place.fuzzy:
            near = {*resolver.fuzzy_keys(bare), *resolver.sound_keys(bare)}
            inside = [e for k in near for e in tables.names.get(k, []) if _in_area(tables, e, area)]
        if inside:
            return resolver.entries_resolution(place.query, inside)
        # a pays only picks among towns: "à Gourin, en Cornouaille" stays Gourin (56)
        return None if other.pays else area
    return None


_SHORTENED = 5  # letters: "auber (93)" is Aubervilliers; "la (93)" is nothing


def read_again_in(tables: Tables, key: str, departement: str) -> list[NameEntry]:
    """The towns of a département a name may mean: spelt a letter or two away, else the one
    town whose name starts with it."""
    keys = tables.keys_by_departement.get(departement, [])
    if len(key) < _SHORTENED or not keys:
        return []
    distance = typo_distance(len(key.replace(" ", "")))
    near = process.extract(key, keys, scorer=OSA.distance, score_cutoff=distance, limit=20)
    if near:
        best = min(d for _k, d, _i in near)
        chosen = [k for k, d, _i in near if d == best]
    else:
        chosen = [k for k in keys if k.startswith(key)]
    entries = [
        e
        for k in chosen
        for e in tables.names.get(k, [])
        if tables.communes[e.commune_code].departement == departement
    ]
    return entries if len({e.commune_code for e in entries}) == 1 else []


def _in_area(tables: Tables, entry: NameEntry, area: Resolution) -> bool:
    departement = tables.communes[entry.commune_code].departement
    if area.kind == "departement":
        return departement == area.departement
    return tables.departements[departement][1] == area.region


def _longer_names_inside(tables: Tables, bare: str, departement: str) -> list[NameEntry]:
    """ "Mauléon, en Soule": the town of the area whose official name starts with the one
    said (Mauléon-Licharre), when the short name belongs to a town elsewhere."""
    prefix = f"{bare} "
    return [
        NameEntry("commune", c.name, c.code)
        for c in tables.communes.values()
        if c.departement == departement and name_key(c.name).startswith(prefix)
    ]


def code_after(
    tables: Tables, resolver: Resolver, message: str, best: Mention
) -> Resolution | None:
    """ "Montreuil 93", "Saint-Denis (974)": a département code right after a town's name
    picks among the towns of that name (and confirms a capitalised first word)."""
    res = best.resolution
    if res.status == "not_found" or not best.end:
        return None
    if res.commune is None and not res.candidates:
        return None
    m = re.match(r"\s*[,(]?\s*(\d{2,3}|2\s?[abAB])\b(?![\d\s]*[\d/h:])", message[best.end :])
    named = re.match(r"\s*\(\s*([^\W\d_][\w' -]*?)\s*\)", message[best.end :])
    if m is not None and not UNITS.match(message[best.end + m.end() :]):
        code = tables.dep_code(m.group(1).replace(" ", ""))
    elif named is not None:  # "Saint-Amand (Cher)": a département's name, even a common word
        code = tables.dep_names.get(name_key(named.group(1)))
    else:
        return None
    if code is None:
        return None
    if res.status == "found" and res.departement == code:
        return res
    keep = [c for c in res.candidates if c.departement == code]
    if not keep:
        longer = longer_name_in(tables, resolver, res, code)
        if longer is not None or not (named is not None or "(" in (m.group(0) if m else "")):
            return longer  # "Paris 18", "Marseille 15": a number may be an arrondissement
        # "Baune (Côte-d'Or)", "auber (93)": the département in brackets is sure, the name
        # is read again among its towns; failing that, the département says where
        again = read_again_in(tables, best.key, code) if best.key else []
        if again:
            return resolver.entries_resolution(res.query, again, fuzzy=True)
        return resolver.dep_resolution(res.query, code)
    return resolver.entries_resolution(
        res.query, [tables.insee[c.commune_code] for c in keep if c.commune_code]
    )


def narrow(res: Resolution, others: list[Mention], towns: bool = False) -> Resolution | None:
    """Use a département/region mentioned elsewhere to pick among candidates; with `towns`,
    also a town named beside it ("Châtenois, à côté de Sélestat")."""
    kinds = ("departement", "region", "postal_code", *(("commune",) if towns else ()))
    for other in others:
        o = other.resolution
        if o.status != "found" or o.kind not in kinds or other.weak or other.toward:
            continue
        keep = [
            c
            for c in res.candidates
            if (o.kind == "region" and c.region == o.region)
            or (o.kind != "region" and c.departement == o.departement)
        ]
        if keep and len({c.departement for c in keep}) == 1:
            c = keep[0]  # one département: the biggest of its communes of that name
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


# "Valence dans le Tarn-et-Garonne, pas la Drôme !": the département denied is not the answer.
_DENIED = re.compile(r"\b(pas|non|plutot que)( (dans|en|du|de))?( (la|le|les|l'))?\s*$")


def said_not_denied(name: str, text: str) -> bool:
    """Whether `name` is in `text`, as words ("cher" is not in "on cherche"), once at least
    without a denial right before it."""
    return any(
        not _DENIED.search(text[: found.start()])
        for found in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)
    )


def longer_name_in(
    tables: Tables, resolver: Resolver, res: Resolution, departement: str
) -> Resolution | None:
    """ "Saint-Amand (Cher)", "Bellegarde, dans l'Ain": no commune of that exact name in the
    département, but one whose name starts with it (Saint-Amand-Montrond,
    Bellegarde-sur-Valserine): people shorten long names."""
    if not res.matched:
        return None
    prefix = name_key(res.matched) + " "
    entries = [
        entry
        for key, named in tables.names.items()
        if key.startswith(prefix)
        for entry in named
        if tables.communes[entry.commune_code].departement == departement
    ]
    if not entries:
        return None
    biggest = max(entries, key=lambda e: tables.communes[e.commune_code].population)
    return resolver.entries_resolution(res.query, [biggest], fuzzy=res.fuzzy)


def longer_name_near(
    tables: Tables, resolver: Resolver, res: Resolution, mentions: list[Mention]
) -> Resolution | None:
    """A longer name (see `longer_name_in`) in a département named in the same message."""
    for mention in mentions:
        area = mention.resolution
        if area.kind == "departement" and area.departement and not mention.toward:
            longer = longer_name_in(tables, resolver, res, area.departement)
            if longer is not None:
                return longer
    return None


# Where a structure wants to go is not where it is: "à Niort, on voudrait ouvrir un deuxième
# site à La Rochelle", "s'étendre aux Hautes-Pyrénées", "des antennes dans les Ardennes".
_TOWARDS = re.compile(
    r"\b(ouvrir|ouvre|ouvrons|s'etendre|etendre|s'implanter|implanter|essaimer|antennes?|"
    r"deuxieme|second|seconde|2e|developper|jusqu'|vers|vendre)\b[^.!?]{0,40}$"
)
TARGET_PENALTY = 2.0

# Where one was, not where one is: "j'ai grandi à Marseille, bossé dix ans à Paris, et je
# reviens m'installer à Digne", "on a vu un projet à Grenoble, on veut faire pareil à Annonay",
# "je viens de Lyon mais on s'installe à Vichy".
_ELSEWHERE = re.compile(
    r"(\b(ai|a|avons|ont)\s+(grandi|bosse|travaille|vecu|etudie|decouvert|vu|visite)\b|"
    r"\bnee?\s)[^.!?,;]{0,50}$"
    # "je viens de Lyon", not "on vient de s'installer à Brive": the origin, right before it
    r"|\b(viens|vient|venons|venu|venue|originaire)\s+(de|d'|du|des)\s*$"
    # "l'autre Tournon c'est dans le Lot-et-Garonne": the namesake, not the place
    r"|\bl'autre\b[^.!?,;]{0,30}$"
)
# Someone else's place, said after it: "Mortagne-au-Perche, c'est là où habite ma sœur".
_SOMEONE_ELSES = re.compile(
    r"^[^.!?]{0,25}\bc'?est\s+(la\s+)?(ou|chez)\s+(habitent?|vit|vivent|travaille)?\s*"
    r"(ma|mon|mes|sa|son|ses|leur|leurs)\b"
)


def home_before_targets(message: str, mentions: list[Mention]) -> list[Mention]:
    """Mentions after words of expansion, or of a past or another place, count less when
    another place is named too."""
    folded = fold(message)
    targets = {
        id(m)
        for m in mentions
        if _TOWARDS.search(before := folded[max(0, m.start - 60) : m.start])
        or _ELSEWHERE.search(before)
        or (m.end and _SOMEONE_ELSES.search(folded[m.end : m.end + 60]))
    }
    if not targets or len(targets) == len(mentions):
        return mentions
    return [
        replace(m, score=m.score - TARGET_PENALTY, toward=True) if id(m) in targets else m
        for m in mentions
    ]


def apart(message: str, one: Mention, other: Mention) -> bool:
    """Whether two mentions sit in different sentences."""
    start, end = sorted((one.start, other.start))
    return bool(re.search(r"[.!?\n]", message[start:end]))


_ACCENTED = re.compile(r"[àâäçéèêëîïôöûüùÿœ]", re.IGNORECASE)


def spelt_with_its_accents(message: str, best: Mention) -> Resolution | None:
    """ "lycée de Vire": someone who writes accents and types a name without one means the
    town spelt so (Vire, Calvados), not its namesake with an accent (Viré, Saône-et-Loire)."""
    said = message[best.start : best.end].lower()
    if not said or not _ACCENTED.search(message):
        return None
    namesakes = [c for c in best.resolution.candidates if fold(c.name) == fold(said)]
    exact = [c for c in namesakes if c.name.lower() == said]
    if len(exact) != 1 or len(namesakes) != len(best.resolution.candidates):
        return None  # only between names that differ by their accents
    return settled_on(exact[0], best.resolution.query, matched=exact[0].name)


# A first part shared by towns that says nothing of which one ("Saint-Denis", "Le Port").
_NOT_A_TOWN_OF_ITS_OWN = frozenset({"saint", "sainte", "le", "la", "les", "l"})


def said_in_full(before: str | None, now: str | None) -> bool:
    """ "à Villefranche" taken as Villefranche-sur-Saône, then "Villefranche-de-Lauragais,
    en Haute-Garonne": the town said in full puts right the one its short name was read as."""
    if not before or not now or before == now:
        return False
    first = fold(before).replace("'", " ").split("-")[0].split()
    again = fold(now).replace("'", " ").split("-")[0].split()
    return first == again and len("".join(first)) >= 4 and first[0] not in _NOT_A_TOWN_OF_ITS_OWN
