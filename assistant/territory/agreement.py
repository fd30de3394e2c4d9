"""Making the places of one message agree: a town and the area named beside it.

"Valence dans la Drôme", "Le Port, La Réunion", "Montreuil 93": when a message names a place
and an area (or a département code), the area settles which town is meant, and a town that
does not lie in the area is read again inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.territory.models import NameEntry, Resolution
from assistant.territory.resolutions import Resolver
from assistant.territory.tables import Tables
from assistant.territory.text import name_key
from assistant.territory.words import DANS_ARTICLES, UNITS

__all__ = ["Mention", "code_after", "narrow", "reread_in_area"]


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
        inside = [
            e
            for e in entries
            if (
                tables.communes[e.commune_code].departement == area.departement
                if area.kind == "departement"
                else tables.departements[tables.communes[e.commune_code].departement][1]
                == area.region
            )
        ]
        if not inside and area.kind == "departement":
            inside = _longer_names_inside(tables, bare, area.departement or "")
        if inside:
            return resolver.entries_resolution(place.query, inside)
        # a pays only picks among towns: "à Gourin, en Cornouaille" stays Gourin (56)
        return None if other.pays else area
    return None


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
    if m is None or UNITS.match(message[best.end + m.end() :]):
        return None
    code = tables.dep_code(m.group(1).replace(" ", ""))
    if res.status == "found" and res.departement == code:
        return res
    keep = [c for c in res.candidates if c.departement == code]
    if not keep:
        return None
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
    """Whether `name` is in `text` once at least without a denial right before it."""
    return any(
        not _DENIED.search(text[: found.start()]) for found in re.finditer(re.escape(name), text)
    )
