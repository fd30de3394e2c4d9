"""Places said by their codes: postal codes and département numbers ("29270", "dans le 29",
"Rodez (12)", "dép. 974"), each read only where the words around it say it is a place."""

from __future__ import annotations

import re

from assistant.territory.agreement import Mention
from assistant.territory.resolutions import Resolver
from assistant.territory.tables import Tables
from assistant.territory.words import UNITS
from assistant.text import fold

__all__ = ["number_mentions", "postal_mentions"]


def postal_mentions(resolver: Resolver, message: str) -> list[Mention]:
    """Postal codes in the text ("29270", "code postal 29 270")."""
    out: list[Mention] = []
    for m in re.finditer(r"(?<![\d.,])(\d{2}) ?(\d{3})(?![\d.,]*\d)", message):
        if UNITS.match(message, m.end()):
            continue
        code = m.group(1) + m.group(2)
        if " " in m.group(0) and not re.search(r"postal|cp\b", message[: m.start()], re.I):
            continue
        res = resolver.postal_resolution(message, code)
        if res is not None:
            out.append(Mention(res, 6.0, m.start()))
    return out


def number_mentions(
    tables: Tables, resolver: Resolver, message: str, lenient: bool
) -> list[Mention]:
    """Département codes after a word that says so ("dans le 29", "(93)", "dép. 974")."""
    out: list[Mention] = []
    bare = r"|(?<![\w,.])" if lenient else ""  # "Saint-Denis 974" in resolve()
    pattern = re.compile(
        r"(?:\b(?:dans|ds)\s+l[ea]\s+"
        + bare
        + r"|\bdu\s+|\bd[ée]partement\s+(?:du\s+|n°\s*)?|\bdept\.?\s*|"
        r"\bdpt\.?\s*|\bd[ée]p\.?\s+|\ben\s+|\(\s*)(\d{2,3}|\d-\d|2\s?[abAB])\b(?!\s*[\d/:])(?!\s*h(?![a-z]))",
        re.IGNORECASE,
    )
    for m in pattern.finditer(message):
        after = message[m.end() :]
        if UNITS.match(after) or re.match(r"\s*(?:au|et|ou|-)\s*\d", after):
            continue
        if m.group(0).lower().startswith("en") and not m.group(1)[-1].isalpha():
            continue  # "en 2024", "en 23" is too weak
        closes = re.match(r"\s*(?:hein|quoi|svp|!)?\s*\)", after)  # "(93 hein)"
        if m.group(0).startswith("(") and (
            not closes or not _names_a_place_before(tables, message, m)
        ):
            continue  # "Rodez (12)", not "des bénévoles (12)"
        # "dans le 9-3": the département said digit by digit
        code = tables.dep_code(re.sub(r"[ -]", "", m.group(1)))
        if code is None:
            continue
        out.append(Mention(resolver.dep_resolution(message, code), 4.0, m.start()))
    return out


def _names_a_place_before(tables: Tables, message: str, match: re.Match[str]) -> bool:
    """A capitalised word, or a place's name, right before the bracket."""
    word = re.search(r"([^\W\d_][\w'-]*)\W*$", message[: match.start()])
    if word is None:
        return False
    typed = word.group(1)
    key = re.sub(r"^st(e?) ", r"saint\1 ", fold(typed).replace("-", " "))
    # "a auber (93)": a word after "à" and before a département's code is where one is
    after_a = re.search(r"(?:^|\s)(?:a|à|au|sur|vers|pres de|près de)\s+$", message[: word.start()])
    return typed[0].isupper() or key in tables.names or after_a is not None
