"""Text handling shared by name lookup and mention finding: ``name_key`` (the key of every
name table), the tokenizer that keeps capitals and sentence starts, and the reading of the
preposition before a token."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from phonetic_fr import phonetic

from assistant.territory.words import (
    COMMON_WORDS,
    DANS_ARTICLES,
    LINK_WORDS,
    STRONG,
    STRONG_BEFORE_DE,
)
from assistant.text import fold

__all__ = ["Token", "name_key", "preposition", "sound_of", "tokenize"]

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_TOKEN = re.compile(r"[^\W_]+")


def _fold(word: str) -> str:
    word = fold(word)
    return _ABBREV.get(word, word)


def name_key(text: str) -> str:
    """The key of every name table: `fold`, words joined by one space, St/Ste expanded."""
    return " ".join(_ABBREV.get(t, t) for t in _TOKEN.findall(fold(text)))


def sound_of(key: str) -> str:
    """How a name key sounds in French, word by word (phonetic-fr, Brouard's algorithm):
    "clermon ferand" and "clermont ferrand" both give "KLERMON FERAN"."""
    return " ".join(phonetic(word) for word in key.split())


@dataclass(frozen=True, slots=True)
class Token:
    """A word of a message, with its normalised form and where it sits."""

    text: str
    norm: str
    start: int
    end: int
    capital: bool
    initial: bool  # first word of a sentence


def tokenize(message: str) -> list[Token]:
    """The words of ``message``; a message all in capitals has no capitalised word."""
    text = message.translate(_APOSTROPHES)
    shouting = text.isupper()
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        before = text[: m.start()].rstrip(" \t\"'«»“”(-")
        initial = not before or before[-1] in ".!?:;\n…"
        word = m.group(0)
        tokens.append(
            Token(
                text=word,
                norm=_fold(word),
                start=m.start(),
                end=m.end(),
                capital=word[0].isupper() and not shouting,
                initial=initial,
            )
        )
    return tokens


def preposition(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """The preposition before token i and its strength: 2 strong, 1 weak, 0 none."""
    if i == 0:
        return None, 0
    p1 = tokens[i - 1].norm
    p2 = tokens[i - 2].norm if i >= 2 else ""
    p3 = tokens[i - 3].norm if i >= 3 else ""
    if p1 in DANS_ARTICLES and p2 in ("dans", "ds"):  # "ds la creuse", typed on a phone
        return "dans", 2
    if p1 in ("de", "d", "du", "des") and (p2 in STRONG_BEFORE_DE or p3 == "pres"):
        return p1, 2
    if p1 in ("la", "l", "le", "les") and p2 in ("a", "de", "d", "pres", "vers", "sur"):
        return ("a" if p2 == "a" else "de"), 2 if p2 != "de" or p3 in STRONG_BEFORE_DE else 1
    if p1 in STRONG or p1 in ("dans", "ds"):
        return p1, 2
    if p1 == "cote":  # "coté brioude", as "côté de Brioude" (exact names only: "côté vente")
        return "cote", 2
    if p1 in ("de", "d", "du", "des", "le", "la", "l", "les"):
        return p1, 1
    return None, 0


def continues_a_name(extra: list[Token]) -> bool:
    """Words that may continue a name: same sentence, no common word, no trailing "de"."""
    if not extra or extra[-1].norm in LINK_WORDS:
        return False
    return all(
        not t.initial and (t.norm in LINK_WORDS or t.norm not in COMMON_WORDS) for t in extra
    )


def opens_a_bracket(message: str, span: list[Token]) -> bool:
    """The name opens a bracket: "Lalinde (Dordogne)"."""
    return message[: span[0].start].rstrip().endswith("(")


def hyphenated(message: str, span: list[Token]) -> bool:
    """Words joined by hyphens ("romorantin-lanthenay"): a name, even typed in lowercase."""
    return len(span) > 1 and all(
        message[a.end : b.start] == "-" for a, b in itertools.pairwise(span)
    )


_PUNCTUATION = re.compile(r"[(),;:.!?]")


def ends_a_name(message: str, last: Token, following: Token) -> bool:
    """A bracket or a comma between two words ends a name: "Langre (Haute-Marne)"."""
    return bool(_PUNCTUATION.search(message[last.end : following.start]))
