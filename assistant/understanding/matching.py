"""Finding one slot value's keywords and patterns in a folded message.

A keyword right after a negation ("pas de local") does not count; single-word keywords of six
letters or more also match a typo (rapidfuzz ratio), so "tresorie" still reads as
"trésorerie"; a need said as settled ("le local c'est réglé") is no longer a need.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz import fuzz

from assistant.text import WORD_START, normalise
from assistant.understanding.script import Matcher

__all__ = ["FUZZY_MIN_LENGTH", "NEGATION", "STATE_NEGATION", "WEIGHTS", "KeywordMatcher"]

FUZZY_MIN_LENGTH = 6
FUZZY_RATIO = 87.0
NEGATION = re.compile(
    # (not "on sait pas faire un budget", "on arrive pas à recruter": the need itself)
    r"(\b(?<!sait )(?<!sais )(?<!savons )(?<!savent )(?<!arrive )(?<!arrivons )(?<!arrivent )"
    r"(?<!connait )(?<!connais )(pas|plus|aucun|aucune|sans|ni)( vraiment)?( besoin)?"
    r"( de| d'| du| des)?\s*"
    # "personne ne reprend", "on n'existe plus": the verb itself is negated.
    r"|\b(personne|rien|jamais) (ne |n')?|\bne |\bn')$"
)
# Who one is and where one stands, negated further: "pas encore association", "personne veut
# reprendre". Not for needs: "pas encore de local", "personne veut reprendre la présidence"
# are the needs themselves.
STATE_NEGATION = re.compile(
    # ("ni la mairie ni les assos": neither is who speaks)
    # ("on n'est plus une asso, on est passés en Scic": not who speaks any more)
    r"(\b(pas|plus|aucun|aucune|sans|ni)( vraiment| encore)?( besoin)?( de| d'| du| des| une| un)?"
    r"\s*|\b(ni|pas|sans) (la|le|les|l') ?"
    r"|\b(personne|rien|jamais) (ne |n')?((veut|veulent|voudra|voudrait|peut|pourra) )?"
    r"|\bne |\bn')$"
)
WEIGHTS = {"strong": 2.0, "normal": 1.0, "weak": 0.5}

# "le local c'est réglé", "le financement, c'est bon": said, and no longer needed.
_SETTLED = re.compile(
    # short words only after "c'est" / "est" ("le financement fait défaut", "un local bon
    # marché" are needs); a few say it alone ("le local, réglé")
    r"\s*,?\s*((c'est |c est |est |sont |ca |c'|on l'a |on les a |on a )(deja )?"
    r"(regle|reglee|regles|reglees|resolu|resolue|ok|bon|fait|trouve|trouvee|signe|boucle|"
    r"sain|saine)|(deja )?(regle|reglee|regles|reglees|resolu|resolue|boucle|va bien|vont bien)"
    r"|ca va( a peu pres| bien| mieux| maintenant)?)"
    # and the sentence stops there ("c'est bon.", not "c'est bon marché", "c'est fait comment")
    # (dictated, without punctuation: "le local c'est bon ce qu'il nous faut c'est…")
    r"(?=\s*(?:$|[.,;!:)]|depuis\b|maintenant\b|aussi\b|pour nous\b|ce qu'|par contre\b|"
    r"mais\b))"
)
# "on a signé le bail", "on a trouvé un local": done before the keyword.
_SETTLED_BEFORE = re.compile(
    r"\b(on a|nous avons|j'ai|on vient de|nous venons de|je viens de) (deja )?(signe|trouve|"
    r"obtenu|decroche|loue|achete) (le |la |les |l'|un |une |des |notre |nos |son |sa )?$"
)
FUZZY_FACTOR = 0.8  # a typo'd keyword counts a little less than an exact one


def _plural_of(typed: str, word: str) -> bool:
    """ "des assos", "les sociétés du village", "d'autres porteurs de projets": the plural
    names others, not a typo of the singular keyword (a plural that counts is listed)."""
    return typed in (word + "s", word + "x")


def _conjugated(typed: str, word: str) -> bool:
    """ "reprend" is the verb "reprendre" conjugated, with another meaning ("la mairie nous
    reprend la salle"), not a typo of it; "repris" is the participle, not "reprise"."""
    if typed.endswith(("is", "it", "ert", "u")) and word == typed + "e":
        return True
    return word.endswith(("re", "er", "ir")) and word.startswith(typed)


class KeywordMatcher:
    def __init__(
        self,
        matcher: Matcher,
        plural_is_other: bool = False,
        spell: Callable[[str], str] = normalise,
        settled_counts: bool = True,
    ) -> None:
        # For who carries the project, a plural names others ("des assos du coin"); for a
        # need, "subventions" is still "subvention".
        self.plural_is_other = plural_is_other
        # A need said to be settled ("le local c'est réglé") is no longer a need.
        self.settled_counts = settled_counts
        self.negation = STATE_NEGATION if settled_counts else NEGATION
        self.weights: dict[str, float] = {}
        for weight, words in (
            ("weak", matcher.weak_keywords),
            ("normal", matcher.keywords),
            ("strong", matcher.strong_keywords),
        ):
            for word in words:
                # Read as messages are ("autres assos" -> "autres associations"): a keyword
                # with an SMS spelling in it would otherwise never match.
                self.weights[spell(word)] = WEIGHTS[weight]
        self.alone_excluded = {normalise(k) for k in matcher.exclude_keywords_alone}
        self.known_words: frozenset[str] = frozenset()  # every keyword of the script
        self.patterns = [re.compile(p) for p in matcher.patterns]
        self.pattern_weight = matcher.pattern_weight
        self.excluded = [normalise(p) for p in matcher.exclude_phrases]
        self._regex = {
            k: re.compile(rf"{WORD_START}{re.escape(k)}(?![a-z0-9])") for k in self.weights
        }
        self.fuzzy_words = [
            k for k in self.weights if " " not in k and "'" not in k and len(k) >= FUZZY_MIN_LENGTH
        ]
        # Phrases too: "travaillé ensemble" is "travailler ensemble" typed in a hurry.
        self.fuzzy_phrases = [
            (k, k.count(" ") + 1)
            for k in self.weights
            if " " in k and "'" not in k and len(k) >= 2 * FUZZY_MIN_LENGTH
        ]
        # Short words of a phrase must be typed exactly: a phrase whose short words are not
        # all in the message cannot match (most phrases, most messages).
        self._exact_words = {
            phrase: {w for w in phrase.split(" ") if len(w) < FUZZY_MIN_LENGTH - 1}
            for phrase, _ in self.fuzzy_phrases
        }

    def _settled(self, text: str, start: int, end: int) -> bool:
        if self.settled_counts:
            return False
        before = text[max(0, start - 40) : start]
        return bool(_SETTLED.match(text, end) or _SETTLED_BEFORE.search(before))

    def said_settled(self, text: str) -> bool:
        """Whether the text names this need only as settled ("le local c'est réglé")."""
        if self.settled_counts:
            return False
        spans = [m.span() for k, r in self._regex.items() if k in text for m in r.finditer(text)]
        spans += [m.span() for p in self.patterns for m in p.finditer(text)]
        return any(self._settled(text, start, end) for start, end in spans)

    def score(self, text: str, tokens: list[str]) -> tuple[float, int]:
        """(evidence, position of the first match) for this value; (0, -1) if absent.

        A keyword right after a negation ("pas de", "sans", "aucun") does not count, unless
        the keyword carries the negation itself ("pas de siret").
        """
        cleaned = text
        for phrase in self.excluded:
            cleaned = cleaned.replace(phrase, " " * len(phrase))
        hits: list[tuple[int, int, str, float]] = []  # (start, end, keyword, weight)
        for keyword, regex in self._regex.items():
            if keyword not in cleaned:  # the regex needs the literal: a cheap test first
                continue
            for match in regex.finditer(cleaned):
                if self.negation.search(cleaned[: match.start()]) or self._settled(
                    cleaned, match.start(), match.end()
                ):
                    continue
                hits.append((match.start(), match.end(), keyword, self.weights[keyword]))
                break
        for pattern in self.patterns:
            found = pattern.search(cleaned)
            if found and not self._settled(cleaned, found.start(), found.end()):
                hits.append((found.start(), found.end(), "<pattern>", self.pattern_weight))
        if hits and all(k in self.alone_excluded for _, _, k, _ in hits):
            hits = []
        if not hits:
            for token in tokens:
                if len(token) < FUZZY_MIN_LENGTH or token in self.known_words:
                    continue
                for keyword in self.fuzzy_words:
                    # Same first letter: "acheter" is not a typo of "racheter".
                    if (
                        token != keyword
                        and token[0] == keyword[0]
                        and not _conjugated(token, keyword)
                        and not (self.plural_is_other and _plural_of(token, keyword))
                        and fuzz.ratio(token, keyword) >= FUZZY_RATIO
                    ):
                        index = cleaned.find(token)
                        if index < 0 or self.negation.search(cleaned[:index]):
                            continue
                        weight = self.weights[keyword] * FUZZY_FACTOR
                        hits.append((index, index + len(token), keyword, weight))
                        break
        if not hits:
            hits = self._fuzzy_phrases(cleaned, tokens)
        if not hits:
            return 0.0, -1
        # Overlapping keywords ("tresorerie" inside "probleme de tresorerie") count once.
        total = 0.0
        seen_spans: list[tuple[int, int]] = []
        # The longest match stands for the words it covers: "nous sommes cinq" (a pattern)
        # over "nous sommes" (a weak keyword) inside it.
        for start, end, _keyword, weight in sorted(hits, key=lambda h: h[0] - h[1]):
            if any(a <= start < b for a, b in seen_spans):
                continue
            seen_spans.append((start, end))
            total += weight
        return total, min(h[0] for h in hits)

    def _fuzzy_phrases(self, cleaned: str, tokens: list[str]) -> list[tuple[int, int, str, float]]:
        """A keyword phrase found with typos, word window by word window."""
        typed_words = set(tokens)
        starts: dict[str, list[int]] = {}  # first letter -> where a window may begin
        for position, token in enumerate(tokens):
            starts.setdefault(token[:1], []).append(position)
        for phrase, size in self.fuzzy_phrases:
            if not self._exact_words[phrase] <= typed_words:
                continue
            words = phrase.split(" ")
            for start in starts.get(words[0][:1], []):
                if start > len(tokens) - size:
                    break
                window = tokens[start : start + size]
                # Short words must be exact ("la commune au" is not "la commune a"); a long
                # word may carry a typo, with its first letter right.
                if window == words or not all(
                    typed == word
                    or (
                        len(word) >= FUZZY_MIN_LENGTH - 1
                        and typed[:1] == word[:1]
                        and not (self.plural_is_other and _plural_of(typed, word))
                        and fuzz.ratio(typed, word) >= FUZZY_RATIO
                    )
                    for typed, word in zip(window, words, strict=True)
                ):
                    continue
                index = cleaned.find(tokens[start])
                if index >= 0 and not self.negation.search(cleaned[:index]):
                    end = index + len(" ".join(tokens[start : start + size]))
                    return [(index, end, phrase, self.weights[phrase] * FUZZY_FACTOR)]
        return []
