"""A town's name inside another name: a street's ("rue de Paris"), a pilgrimage's ("les
pèlerins de Saint-Jacques"), a body's ("la Croix-Rouge"), a city's own ("la Ville d'Alençon").
None of them says where the person is."""

from __future__ import annotations

from assistant.territory.text import Token

# A town's name in a street's or a pilgrimage's name is not a place the person is in: "rue de
# Paris", "route de Guéret", "les pèlerins de Saint-Jacques".
_NAMED_AFTER = frozenset(
    {
        "rue",
        "avenue",
        "boulevard",
        "bd",
        "place",
        "chemin",
        "chemins",
        "route",
        "impasse",
        "allee",
        "quai",
        "pelerins",
        "pelerinage",
        "pelerin",
    }
)


# Bodies named like a town: "bénévoles de la Croix-Rouge" are not in Croix (Nord).
_BODIES = frozenset({("croix", "rouge"), ("croix", "blanche"), ("croix", "rousse")})


def in_a_name(tokens: list[Token], i: int) -> bool:
    """Token i starts a place name inside a street's, pilgrimage's or body's name."""
    if tuple(t.norm for t in tokens[i : i + 2]) in _BODIES:
        return True
    following = [t.norm for t in tokens[i : i + 2]]
    if following[:1] == ["ville"] and following[1:] in (["de"], ["d"], ["du"]):
        return True  # "la Ville d'Alençon" is Alençon, not Ville (Oise)
    before = [t.norm for t in tokens[max(0, i - 2) : i]]
    if before and before[-1] in ("de", "du", "des", "d"):
        before = before[:-1]
    return bool(before) and before[-1] in _NAMED_AFTER
