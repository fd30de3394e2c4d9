"""French text helpers shared by retrieval, diagnostic and composition.

Accent folding uses Unidecode-free stdlib `unicodedata` (NFKD) because French only needs
combining marks stripped; stemming uses PyStemmer's Snowball French stemmer, the same one
bm25s is designed around.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ÖØ-Þ0-9«\"(])")
# Words that carry no meaning for retrieval on top of the standard French list: question
# scaffolding and chat filler users put around what they ask.
_EXTRA_STOPWORDS = {
    "est",
    "ce",
    "que",
    "qu",
    "quoi",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "comment",
    "pourquoi",
    "combien",
    "peut",
    "peux",
    "puis",
    "faut",
    "faire",
    "fait",
    "etre",
    "avoir",
    "bonjour",
    "merci",
    "svp",
    "stp",
    "alors",
    "donc",
    "aussi",
    "tres",
    "plus",
    "moins",
    "cette",
    "cet",
    "ces",
    "sont",
    "ont",
    "dois",
    "doit",
    "veux",
    "voudrais",
    "aimerais",
    "existe",
    "il",
    "y",
    "a",
    "l",
    "d",
    "j",
    "n",
    "s",
    "t",
    "m",
    "c",
    "quand",
    "ou",
    "si",
    "tout",
    "tous",
    "toute",
    "toutes",
    "comme",
    "sur",
    "pour",
    "par",
    "dans",
    "avec",
    "sans",
    "entre",
    "chez",
    "vers",
    "sous",
    "mon",
    "ma",
    "mes",
    "notre",
    "nos",
    "votre",
    "vos",
    # chat filler: "ok et le dla ça se passe comment concrètement ?", "genre pour la culture"
    "ok",
    "okay",
    "concretement",
    "exactement",
    "vraiment",
    "franchement",
    "bref",
    "hein",
    "virgule",
    "coup",
    "ben",
    "bah",
    "salut",
    "coucou",
    "euh",
    "voila",
    "enfin",
    "truc",
    "trucs",
    "sa",
    "cela",
}


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """bm25s's French list plus ours; loaded on first use (importing bm25s costs a second)."""
    from bm25s.stopwords import STOPWORDS_FRENCH

    return frozenset({*STOPWORDS_FRENCH, *_EXTRA_STOPWORDS})


# The one normaliser of the code base: every comparison of words (retrieval terms, diagnostic
# patterns, place names) starts from `fold`; the helpers below only choose how to cut it.
_FOLD_TABLE = str.maketrans(
    {"’": "'", "‘": "'", "`": "'", "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"}
)


# Function words that tell an English sentence from a French one (not "a", "on", "me":
# both languages have them).
_ENGLISH_WORDS = frozenset(
    [
        "the",
        "is",
        "are",
        "was",
        "what",
        "how",
        "can",
        "could",
        "does",
        "do",
        "did",
        "we",
        "our",
        "you",
        "your",
        "my",
        "i",
        "it",
        "its",
        "of",
        "to",
        "for",
        "with",
        "and",
        "which",
        "who",
        "when",
        "where",
        "there",
        "this",
        "that",
        "an",
        "be",
        "have",
        "has",
        "will",
        "would",
        "should",
    ]
)
_FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "est",
        "sont",
        "quoi",
        "comment",
        "peut",
        "peux",
        "nous",
        "notre",
        "vous",
        "votre",
        "mon",
        "ma",
        "je",
        "il",
        "elle",
        "de",
        "du",
        "des",
        "pour",
        "avec",
        "et",
        "qui",
        "quand",
        "ou",
        "ce",
        "cette",
        "un",
        "une",
        "au",
        "aux",
        "en",
        "dans",
        "pas",
    ]
)


def written_in_english(text: str) -> bool:
    """Whether a message is in English ("What is the DLA and who can use it?")."""
    found = _WORD.findall(fold(text))
    english = sum(w in _ENGLISH_WORDS for w in found)
    return english >= 3 and english > 2 * sum(w in _FRENCH_WORDS for w in found)


def fold(text: str) -> str:
    """Lower-case, strip accents, expand ligatures, straighten apostrophes: 'Œuvre’s É' ->
    "oeuvre's e"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalise(text: str) -> str:
    """`fold` plus tidy separators, for matching a message: 'Ça coûte—combien ?' ->
    "ca coute combien ?"."""
    return re.sub(r"\s+", " ", re.sub(r"[-_/]", " ", fold(text))).strip()


# Where a word starts: after a non-word character, or after an elided article or pronoun
# ("l'asso", "d'association", "qu'on"), which French glues to the next word.
WORD_START = r"(?:(?<![\w'])|(?<=\b[ldjnmstc]')|(?<=\bqu'))"
# SMS French drops the "e" of "je" before a verb: "jveux", "jsais", "jcherche" ("j" then a
# consonant starts no French word, so this reads no real word wrongly).
_SMS_JE = re.compile(r"(?<![\w'])j(?=[bcdfghjklmnpqrstvwxz][a-z]{2,}\b)")
# An acronym typed letter by letter ("une s i a e", "le D L A"): joined only when it is one
# of the domain's, so that "y a t il" stays as it is.
_SPACED_LETTERS = re.compile(r"(?<![\w'])(?:[A-Za-z] ){2,}[A-Za-z](?![\w'])")
_ACRONYMS = frozenset(
    _WORD.findall(
        "siae ess dla scop scic cae esus aci etti cress bge rsa sas sarl eurl sasu urscop caf "
        "cci cma pec cdi cdd smic tva rna ei ai ptce adie"
    )
)


def _joined_acronyms(text: str) -> str:
    def join(match: re.Match[str]) -> str:
        letters = match.group(0).split(" ")
        for end in range(len(letters), 2, -1):  # "D L A c pour qui": the longest acronym
            if "".join(letters[:end]).lower() in _ACRONYMS:
                return " ".join(["".join(letters[:end]), *letters[end:]])
        return match.group(0)

    return _SPACED_LETTERS.sub(join, text)


_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")


class Respeller:
    """Writes out the spellings people type ("jsuis" -> "je suis", "koi" -> "quoi") from a table
    kept as data (the diagnostic script's `spellings`), for every reader of messages."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self._table = {normalise(k): v for k, v in table.items() if normalise(k)}
        keys = "|".join(re.escape(k) for k in sorted(self._table, key=len, reverse=True))
        self._pattern = re.compile(rf"{WORD_START}({keys})(?![\w'])") if keys else None

    def folded(self, text: str) -> str:
        """`normalise(text)` with the spellings written out (matching works on this)."""
        text = _joined_acronyms(normalise(text))
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: normalise(self._table[m.group(1)]), text)
            text = _SPACES.sub(" ", text)  # a filler written out as nothing ("euh")
        return _SMS_JE.sub("je ", text)

    def readable(self, text: str) -> str:
        """The message as typed, accents kept, with only the listed spellings written out (what
        a search engine or a language model reads best)."""
        text = _joined_acronyms(text)
        if self._pattern is None:
            return text
        out: list[str] = []
        last = 0
        for m in re.finditer(r"[\w']+", text):
            replacement = self._table.get(normalise(m.group(0)))
            if replacement is not None:
                out.append(text[last : m.start()] + replacement)
                last = m.end()
        return "".join(out) + text[last:]


def words(text: str) -> list[str]:
    """Folded word tokens, stop words kept."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


# Bump when `terms` changes: the index records it and rebuilds its lexical part.
TOKENIZER_VERSION = "3"  # 2-3: chat filler ("ok", "concrètement", "virgule") dropped


def terms(text: str) -> list[str]:
    """Folded, stop-word-free, stemmed terms: the unit of lexical matching."""
    drop = stopwords()
    kept = [w for w in words(text) if w not in drop and (len(w) > 1 or w.isdigit())]
    return list(_stemmer().stemWords(kept))


def sentences(text: str) -> list[str]:
    """Split prose into sentences; Markdown list items (bulleted or numbered) and headings
    count as sentences, without their bullet or number."""
    result: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d{1,2}[.)]) )|\n(?=#)", text):
        line = " ".join(block.split())
        line = re.sub(r"^#+\s*", "", line)
        line = re.sub(r"^(?:[-*]|\d{1,2}[.)])\s+", "", line)  # a bullet or a list number
        if not line:
            continue
        result.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return result
