"""Which sentences of the cards (or of a document's passages) answer a question, and in
which order: the one that answers best leads, as a phone shows the first lines."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

from assistant.text import fold, sentences, terms

MAX_SENTENCES = 4
# Three sentences always; a fourth detail only when the four stay within this many words
# (a phone shows about 60: the best sentence leads; on the tuning questions the fourth made 19
# more answers right of 1 560, none fewer, at a median of 135 words instead of 120).
WORD_BUDGET = 150
ALWAYS_SHOWN = 3
_FIGURE_QUESTION = re.compile(
    r"\b(combien|chiffre|chiffres|nombre|taux|pourcentage|montant|duree|combien de temps|"
    r"quelle part|quel budget|how many|how much)\b|%"
)
# A bold line alone is a card's sub-heading ("**Qui peut en bénéficier ?**"), not an answer.
_HEADING = re.compile(r"^\*\*[^*]+\*\*\s*:?$")
# What a question word calls for in the sentence that answers it: "combien ça coûte" is
# answered by "gratuit" or a price, "combien de temps" by a duration, "depuis quand" by a date.
_ANSWER_CUES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"\b(coute|coutent|cout|couts|prix|tarifs?|payant|payer|paie|gratuit|frais)\b"),
        re.compile(
            r"\b(gratuit\w*|payant\w*|pris en charge|prise en charge|sans frais|frais|tarif\w*|"
            r"prix|cout\w*|factur\w*)\b|€|\beuros?\b"
        ),
    ),
    (
        re.compile(
            r"\b(dure|durent|duree|combien de temps|longtemps|valable|validite|valide|"
            r"how long)\b"
        ),
        re.compile(
            r"\b(\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|dix huit|vingt) "
            r"(mois|ans?|annees?|jours?|semaines?|heures?)\b|\bduree\b"
        ),
    ),
    (
        re.compile(
            r"\b(depuis quand|c'est quand|quelle annee|en quelle annee|quelle date|"
            r"since when|cree quand|creee quand)\b|^quand\b"
        ),
        re.compile(r"\b(19|20)\d\d\b|\bdepuis\b"),
    ),
    (
        # "c'est porté par qui ?": answered by who carries it ("animée … par l'Avise"); not
        # when it also asks what the thing is (the definition leads, the carrier follows)
        re.compile(
            r"^(?!.*\bquoi\b).*\b(porte|anime|gere|pilote|finance|organise|delivre|coordonne)"
            r"e?s? par qui\b"
        ),
        re.compile(
            r"\b(porte|anime|gere|pilote|finance|organise|delivre|coordonne|soutenu)e?s?\b"
            r"[^.;:]{0,30}\bpar\b"
        ),
    ),
)
CUE_BONUS = 2.0  # a sentence of the kind asked for, as strong as two rare question terms
# A yes-or-no question ("le DLA peut nous financer ?") is answered by the card's "Oui, …" or
# "Non, …", which leads even over a sentence that repeats more of the question's words.
_YES_NO_QUESTION = re.compile(
    r"^(?!.*\b(quoi|comment|combien|pourquoi|quel|quelle|quels|quelles|qui|ou|quand)\b)"
    r".*\b(peut|peuvent|peux|pouvons|puis|a le droit|ont le droit|avons le droit|"
    r"faut il|doit|doivent|dois|est ce que|est ce qu|y a t il|existe t il)\b"
)
_YES_NO_ANSWER = re.compile(r"^(oui|non)\b")
YES_NO_BONUS = 4.0
_DIGIT = re.compile(
    r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|quinze|vingt|trente|cent|"
    r"mille|million|millions|milliard|milliards|moitie|tiers(?![- ]lieu)|quart)\b"
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
# A sentence that starts with a pronoun speaks of the previous sentence's subject; an
# impersonal "il" ("il faut", "il est possible de") does not.
_ANAPHORA = re.compile(
    r"^(?!il (faut|y a|existe|suffit|reste|s'agit|vaut|arrive|est \w+ (de|d'|que|qu'))\b)"
    r"(il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|cela|ceci)\b",
    re.IGNORECASE,
)
INHERITED = 0.5  # the weight of a term the sentence only refers to


class HasBody(Protocol):
    """What sentences are picked from: a card, or a document's passage."""

    @property
    def body(self) -> str: ...


def quoted(sentence: str) -> str:
    """A card's sentence as an answer quotes it: without bold, a list item capitalised."""
    text = re.sub(r"\*\*|__", "", sentence).strip()
    # a list item ("- la page de l'Avise compte…") becomes a sentence of its own
    return text[:1].upper() + text[1:]


def pick_sentences(
    question: str, cards: Sequence[HasBody], weight: Callable[[str], float] = lambda _: 1.0
) -> list[tuple[int, int, str]]:
    """The sentences that answer best, as (card rank, position, text): the best one first,
    then what answers the rest of the question, then details in reading order.

    Cards are written to lead with the answer, so a card's first sentence gets a bonus;
    otherwise a sentence scores by the (IDF-weighted) question terms it contains, and a
    question about a figure ("combien", "quel taux") favours sentences with numbers.
    """
    fits = _SentenceFit(question, weight)
    scored: list[tuple[float, int, int, str]] = []
    fit: dict[tuple[int, int], float] = {}  # how well a sentence itself answers
    referred: dict[tuple[int, int], str] = {}  # the sentence a pronoun sentence refers to
    for rank, card in enumerate(cards):
        previous = ""
        for position, sentence in enumerate(sentences(card.body)):
            text, before = quoted(sentence), previous
            previous = text
            if len(text.split()) < 4 or _HEADING.match(sentence.strip()):
                continue
            context = before if _ANAPHORA.match(text) or before.endswith(":") else ""
            if context:
                referred[rank, position] = context
            # another card's "Oui, …" answers another question ("contrat d'engagement
            # républicain ?" is not answered by the contrat d'engagement éducatif's "Oui")
            overlap, figure = fits.overlap(text, context), fits.figure(text, yes_no=rank == 0)
            fit[rank, position] = overlap + figure - 0.6 * rank
            score = fit[rank, position] + (0.8 if position == 0 else 0.0)
            # a sentence of the kind asked for ("Non, …") answers even without the
            # question's words, but only from the best card: elsewhere a bare duration
            # ("huit jours avant l'embauche") is about something else
            if overlap or position == 0 or (figure >= CUE_BONUS and rank == 0):
                scored.append((score, rank, position, text))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    best = scored[:MAX_SENTENCES]
    if sum(len(text.split()) for *_, text in best) > WORD_BUDGET:
        best = best[:ALWAYS_SHOWN]  # the weakest detail goes
    first = next((s for s in scored if s[1] == 0), None)
    if best and first is not None and all(rank != 0 for _, rank, _, _ in best):
        best[-1] = first  # always quote the best card
    # what the question asks for and no chosen sentence gives: a figure, then a second subject
    for asked in (_kind_asked, _other_subject):
        wanted = asked(fits, best, scored)
        if wanted is not None:
            _give_way(best, wanted)
    # The sentence that answers best leads (a phone shows the first lines); then what answers
    # the rest of the question (the date of "créée quand, et combien de structures ?", a
    # subject the lead lacks), then the details, in reading order.
    best.sort(key=lambda item: (-fit[item[1], item[2]], item[1], item[2]))
    lead, rest = best[:1], best[1:]
    if lead:
        after = lead[0][3]
        rest.sort(key=lambda item: (*fits.completes(after, item[3]), item[1], item[2]))
        lead = _with_what_it_refers_to(lead[0], referred, rest)
    return [(r, p, t) for _, r, p, t in lead + rest]


def _with_what_it_refers_to(
    lead: tuple[float, int, int, str],
    referred: dict[tuple[int, int], str],
    rest: list[tuple[float, int, int, str]],
) -> list[tuple[float, int, int, str]]:
    """An answer does not open on "Il est valable cinq ans": the sentence it refers to comes
    first (in place of the weakest detail, when the answer is full)."""
    _, rank, position, _ = lead
    before = referred.get((rank, position))
    if before is None:
        return [lead]
    chosen = [item for item in rest if (item[1], item[2]) == (rank, position - 1)]
    if chosen:  # already among the details: it moves up
        rest.remove(chosen[0])
        return [chosen[0], lead]
    if len(rest) + 2 > MAX_SENTENCES:
        rest.pop()
    return [(lead[0], rank, position - 1, before), lead]


_TWO_SUBJECTS = re.compile(
    r"\b(comme|ou|vs|versus|plutot|difference|diff|pareil|compar\w*|entre)\b"
)
# A question term counts as a subject of its own from this share of the rarest term's weight.
SUBJECT_WEIGHT = 0.6


def _other_subject(
    fits: _SentenceFit,
    best: list[tuple[float, int, int, str]],
    scored: list[tuple[float, int, int, str]],
) -> tuple[float, int, int, str] | None:
    """ "une subvention, faut la rembourser comme un prêt d'honneur ?": a question about two
    things hears from the second card too, when it holds a rare question term that no chosen
    sentence has (its best such sentence); None when the chosen ones cover the question."""
    if len(scored) <= len(best) or any(rank == 1 for _, rank, _, _ in best):
        return None
    if not fits.two_subjects:
        return None
    covered = set().union(*(_read(text)[0] for *_, text in best))
    missing = {t for t in fits.wanted - covered if fits.weight(t) >= SUBJECT_WEIGHT * fits.scale}
    return next((item for item in scored if item[1] == 1 and missing & _read(item[3])[0]), None)


def _give_way(best: list[tuple[float, int, int, str]], item: tuple[float, int, int, str]) -> None:
    """Put `item` in place of the weakest detail, never of the best card's only sentence."""
    ranks = [rank for _, rank, _, _ in best]
    spare = [i for i in range(1, len(best)) if ranks[i] != 0 or ranks.count(0) > 1]
    if spare:
        best[spare[-1]] = item


def _kind_asked(
    fits: _SentenceFit,
    best: list[tuple[float, int, int, str]],
    scored: list[tuple[float, int, int, str]],
) -> tuple[float, int, int, str] | None:
    """ "combien de DLA, et qui les anime ?": when the question asks for a figure (a price, a
    duration, a date) and no chosen sentence gives one, the best card's best sentence that
    does; None when one is chosen or the best card has none."""
    if not (fits.asks_figure or fits.cues) or len(scored) <= len(best):
        return None
    wanted = CUE_BONUS if fits.cues else 1.0
    if any(fits.figure(text) >= wanted for *_, text in best):
        return None
    return next((item for item in scored if item[1] == 0 and fits.figure(item[3]) >= wanted), None)


@lru_cache(maxsize=8192)
def _read(sentence: str) -> tuple[frozenset[str], str]:
    """A card sentence's terms and folded text: the cards do not change between questions,
    so each sentence is read once (a few ms a question otherwise)."""
    return frozenset(terms(sentence)), fold(sentence)


class _SentenceFit:
    """How well a sentence answers a question: the (IDF-weighted) question terms it holds,
    and a figure when the question asks for one."""

    def __init__(self, question: str, weight: Callable[[str], float]) -> None:
        self.wanted = set(terms(question))
        self.weight = weight
        folded = fold(question)  # once: it is read by every pattern below
        self.asks_figure = bool(_FIGURE_QUESTION.search(folded))
        self.cues = [answer for asked, answer in _ANSWER_CUES if asked.search(folded)]
        self.yes_no = bool(_YES_NO_QUESTION.search(folded))
        # "une subvention, faut la rembourser comme un prêt d'honneur ?", "scop ou scic"
        self.two_subjects = bool(_TWO_SUBJECTS.search(folded))
        self.scale = max((weight(t) for t in self.wanted), default=1.0)

    def overlap(self, text: str, context: str = "") -> float:
        """The question terms the sentence holds; those it refers to ("Il est valable cinq
        ans" after "L'agrément est délivré…", a list item after its "…:" lead-in) count for
        half."""
        own = self.wanted & _read(text)[0]
        inherited = (self.wanted & _read(context)[0]) - own if context else set()
        held = sum(self.weight(t) for t in own) + INHERITED * sum(self.weight(t) for t in inherited)
        return held / self.scale

    def completes(self, lead: str, text: str) -> tuple[bool, bool]:
        """Whether a sentence after the lead does not (False sorts first) give the kind of
        answer asked for, or a rare question term the lead lacks."""
        added = (self.wanted & _read(text)[0]) - _read(lead)[0]
        new_subject = sum(self.weight(t) for t in added) >= SUBJECT_WEIGHT * self.scale
        return self.figure(text) < CUE_BONUS, not new_subject

    def figure(self, text: str, yes_no: bool = True) -> float:
        """A figure when the question asks for one; the kind of answer its question word calls
        for (a price, a duration, a date) when it asks for that."""
        folded = _read(text)[1]
        # a year is a date, not the figure asked for ("combien de tiers-lieux": not "en 2019")
        bonus = 1.2 if self.asks_figure and _DIGIT.search(_YEAR.sub(" ", folded)) else 0.0
        if yes_no and self.yes_no and _YES_NO_ANSWER.search(folded):
            bonus += YES_NO_BONUS
        return bonus + sum(CUE_BONUS for answer in self.cues if answer.search(folded))
