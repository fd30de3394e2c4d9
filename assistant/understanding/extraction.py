"""Reading slots out of messy French, driven by the diagnostic script's keyword lists.

Matching happens on folded text (no accents, lower case, hyphens as spaces); single-word
keywords of six letters or more also match a typo (rapidfuzz ratio), so "tresorie" still
reads as "trésorerie".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from assistant.territory.index import Resolution, TerritoryIndex
from assistant.text import WORD_START, Respeller, normalise
from assistant.understanding import plans
from assistant.understanding.quantities import employees, structure_age
from assistant.understanding.script import DiagnosticScript, Matcher, Slot
from assistant.understanding.told import QUESTION_START, described

FUZZY_MIN_LENGTH = 6
FUZZY_RATIO = 87.0
_NEGATION = re.compile(
    r"(\b(pas|plus|aucun|aucune|sans|ni)( vraiment| encore)?( besoin)?( de| d'| du| des)?\s*"
    # "personne ne reprend", "personne veut reprendre", "on n'existe plus": the verb itself
    # is negated.
    r"|\b(personne|rien|jamais) (ne |n')?((veut|veulent|voudra|voudrait|peut|pourra) )?"
    r"|\bne |\bn')$"
)
_CORRECTION = re.compile(
    r"^(ah |oh |euh |mais |si |bon |alors |heu |oups |oops |zut |mince |ah zut )*"
    r"(non|en fait|pardon|plutot|je me suis trompe|oups|oops|"
    r"erreur|correction|je rectifie|rectification|je corrige|enfin non|"
    r"je voulais dire|c'est pas ca|pas du tout)\b"
)
_FOR_CLIENT = re.compile(
    r"\b(mon client|ma cliente|mes clients|un client|une cliente|j'accompagne|"
    r"je suis conseill(?!\w* (?:municipal|communautaire|departemental|regional))|"
    r"je suis charge|je suis chargee|pour un porteur|pour une porteuse|un porteur de projet que|"
    r"une porteuse de projet que|je conseille|je recois une|je recois un|personne que j'accompagne)"
)
_ADVISER_WORDS = re.compile(
    r"\b((?:conseiller|conseillere|conseillers)(?! (?:municipal|communautaire|departemental|"
    r"regional))|mon client|ma cliente|mes clients|un client|"
    r"une cliente|j'accompagne|je conseille|charge d'accompagnement|chargee d'accompagnement)\b"
)
# Where a short answer ends and the rest of the message begins: "Vesoul. juste une idée".
_FIRST_CLAUSE = re.compile(r"\s*[.,;!:]\s+|\s*[.,;!:]$")


class Extraction(BaseModel):
    """Everything one message says, before it is merged into the state."""

    stage: str | None = None
    profile: str | None = None
    needs: list[str] = Field(default_factory=list)
    # The needs the message names in words (the rules'), before any reading by meaning: only
    # these can correct the needs ("non, plutôt du financement").
    named_needs: list[str] = Field(default_factory=list)
    settled_needs: list[str] = Field(default_factory=list)  # said as solved: never added
    territory: Resolution | None = None
    evidence: dict[str, dict[str, float]] = Field(default_factory=dict)  # slot -> value -> score
    # Readings by meaning (semantic.py), used only where nothing else speaks for the slot.
    hints: dict[str, str] = Field(default_factory=dict)
    # Forms named only as plans ("on veut créer une asso"): kept by the engine, in case a
    # later message says the structure now exists ("les statuts sont déposés").
    planned: dict[str, float] = Field(default_factory=dict)
    exists: bool = False  # the message says the structure is registered or already created
    employees: int | None = None
    sector: str | None = None
    context: list[str] = Field(default_factory=list)
    dont_know: bool = False
    correction: bool = False
    question: bool = False
    for_client: bool = False
    answering: str | None = None  # the slot of the question this message answers, if any
    # The person's story with this message (dialogue/story.py), when the engine will read it:
    # the semantic layer embeds it in the same model call as the message's clauses.
    story: str | None = None

    @property
    def slots_found(self) -> list[str]:
        found = [s for s in ("stage", "profile", "employees", "sector") if getattr(self, s)]
        if self.needs:
            found.append("needs")
        if self.territory is not None and self.territory.status != "not_found":
            found.append("territory")
        return found


WEIGHTS = {"strong": 2.0, "normal": 1.0, "weak": 0.5}
SHORT_ANSWER_WORDS = 5
OPTIONS_FACTOR = 0.3
# Who speaks for a structure that exists (not a group or a person, who may only plan one).
ESTABLISHED_PROFILES = frozenset(
    {"association", "association-employeuse", "entreprise", "scop-scic", "siae", "collectivite"}
)
# Profile values by legal family: "asso … 6 salariés" names one family, not two options.
LEGAL_FORMS = {
    "association": "association",
    "association-employeuse": "association",
    "scop-scic": "cooperative",
    "entreprise": "entreprise",
    "siae": "insertion",
}
# "le local c'est réglé", "le financement, c'est bon": said, and no longer needed.
_SETTLED = re.compile(
    r"\s*,?\s*(c'est |c est |est |sont |ca |c'|on l'a |on les a |on a )?(deja )?"
    r"(regle|reglee|regles|reglees|resolu|resolue|ok|bon|fait|trouve|trouvee|signe|boucle|"
    r"va bien|vont bien|saine|sain)\b"
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


class _CompiledMatcher:
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
        spans = [m.span() for r in self._regex.values() for m in r.finditer(text)]
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
                if _NEGATION.search(cleaned[: match.start()]) or self._settled(
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
                        if index < 0 or _NEGATION.search(cleaned[:index]):
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
                if index >= 0 and not _NEGATION.search(cleaned[:index]):
                    end = index + len(" ".join(tokens[start : start + size]))
                    return [(index, end, phrase, self.weights[phrase] * FUZZY_FACTOR)]
        return []


class Extractor:
    """Turns one message into an `Extraction`, using the script and the territory index."""

    def __init__(
        self,
        script: DiagnosticScript,
        territories: TerritoryIndex,
        refine: Callable[[str, Extraction], Extraction] | None = None,
        *more: Callable[[str, Extraction], Extraction] | None,
    ) -> None:
        self.script = script
        self.territories = territories
        # Further readings merged into the rules' result, in order: the semantic layer
        # (semantic.py), then the optional LLM (llm/extraction.py).
        self.refiners = [r for r in (refine, *more) if r is not None]

    @cached_property
    def _compiled(self) -> dict[str, dict[str, _CompiledMatcher]]:
        compiled = {
            name: {
                value: _CompiledMatcher(
                    m,
                    plural_is_other=name == "profile",
                    spell=self.respeller.folded,
                    settled_counts=name != "needs",
                )
                for value, m in slot.values.items()
            }
            for name, slot in self.script.slots.items()
        }
        # A word that is itself a keyword is typed right: "trésorerie" (a need) is not a
        # misspelt "trésorière" (who speaks for an association).
        known = frozenset(
            word
            for values in compiled.values()
            for matcher in values.values()
            for word in matcher.weights
            if " " not in word
        )
        for values in compiled.values():
            for matcher in values.values():
                matcher.known_words = known
        return compiled

    @cached_property
    def _dont_know(self) -> list[re.Pattern[str]]:
        return [
            re.compile(rf"{WORD_START}{re.escape(normalise(p))}(?![a-z0-9])")
            for p in self.script.dont_know
        ]

    def scores(self, slot_name: str, text: str, planned_too: bool = False) -> dict[str, float]:
        """Evidence for each value of a slot in the text (values with none are left out).

        For the profile, words that name a structure still to be created do not count (a
        plan is not who speaks, plans.py), unless `planned_too`.
        """
        plain = plans.present(text)
        result: dict[str, float] = {}
        for value, matcher in self._compiled[slot_name].items():
            full, _ = matcher.score(text, re.findall(r"[a-z0-9']+", text))
            # An insertion project is named by what it does (and the agrément it seeks),
            # not by a legal form to come: planned, it is still an SIAE.
            insertion_project = value == "siae" and not plans.NO_STRUCTURE.search(text)
            if slot_name == "profile" and full > 0 and not planned_too and not insertion_project:
                present, _ = matcher.score(plain, re.findall(r"[a-z0-9']+", plain))
                full = present  # a form only planned is not who speaks (plans.py)
            if full > 0:
                result[value] = full
        return result

    def values_in(self, slot_name: str, text: str) -> list[str]:
        """Values of a slot the text shows: for a multiple slot in order of appearance,
        otherwise best evidence first (ties broken by the slot's priority)."""
        slot: Slot = self.script.slots[slot_name]
        tokens = re.findall(r"[a-z0-9']+", text)
        found: list[tuple[float, int, str]] = []
        for rank, value in enumerate(slot.ordered_values()):
            score, position = self._compiled[slot_name][value].score(text, tokens)
            if score > 0:
                found.append((position, rank, value) if slot.multiple else (-score, rank, value))
        return [value for _, _, value in sorted(found)]

    @cached_property
    def respeller(self) -> Respeller:
        return Respeller(self.script.spellings)

    def spelled_out(self, text: str) -> str:
        """A normalised message with its SMS spellings written out ("jsuis" -> "je suis")."""
        return self.respeller.folded(text)

    def extract(
        self, message: str, pending: str | None = None, story: str | None = None
    ) -> Extraction:
        text = self.spelled_out(message)
        result = Extraction(answering=pending, story=story)
        result.correction = bool(_CORRECTION.search(text))
        result.for_client = bool(_FOR_CLIENT.search(text))
        if result.for_client:
            # The adviser's own words ("conseiller", "mon client") say nothing of the project.
            text = _ADVISER_WORDS.sub(" ", text)
        result.question = message.strip().endswith("?") or bool(QUESTION_START.search(text))
        words = text.split()
        result.dont_know = len(words) <= 8 and any(p.search(text) for p in self._dont_know)

        # A question ("asso ou scop ?") names options, not the project: no stage/profile clue
        # from it; the sentences around it that describe the project still speak.
        told = described(text)
        if told:
            result.evidence = {slot: self.scores(slot, told) for slot in ("stage", "profile")}
            self._age_speaks(result.evidence, told, text)
            plans.speaker_of_plan(result.evidence["profile"], told)
            plans.founders_speak(result.evidence["profile"], told)
            self._members_not_group(result.evidence["profile"], told)
            mentioned = self.scores("profile", told, planned_too=True)
            result.planned = {
                v: w
                for v, w in mentioned.items()
                if v in LEGAL_FORMS and w > result.evidence["profile"].get(v, 0.0)
            }
            families = {LEGAL_FORMS[v] for v in mentioned if v in LEGAL_FORMS}
            if len(families) >= 2:
                # "scop, scic, asso…": a list of options the user hesitates between.
                result.evidence["profile"] = {
                    v: w * OPTIONS_FACTOR for v, w in result.evidence["profile"].items()
                }
        for slot_name, evidence in result.evidence.items():
            if evidence:
                setattr(result, slot_name, max(evidence, key=lambda v: evidence[v]))
        result.needs = self.values_in("needs", text)
        result.named_needs = list(result.needs)
        result.settled_needs = [
            need
            for need, matcher in self._compiled["needs"].items()
            if need not in result.needs and matcher.said_settled(text)
        ]
        if "sector" in self.script.slots:
            sectors = self.values_in("sector", text)
            result.sector = sectors[0] if sectors else None
        if "context" in self.script.slots:
            result.context = self.values_in("context", text)
        result.employees = employees(text)
        result.exists = plans.says_it_exists(told)
        profile = result.evidence.get("profile", {})
        if result.employees == 0 and "association-employeuse" in profile:
            # "sans salarié", "0 salarié": the word salarié says the opposite here
            weight = profile.pop("association-employeuse")
            profile["association"] = profile.get("association", 0.0) + weight
            result.profile = max(profile, key=lambda v: profile[v])

        territory = self.territories.find_in_text(message)
        # The lenient resolver reads a whole message as a place name: only for a short
        # direct answer to the territory question ("gueret", "23", "st flour"), or the short
        # first clause of a longer one ("Vesoul. juste une idée, il faut un terrain").
        first = _FIRST_CLAUSE.split(message.strip(), maxsplit=1)[0]
        answer = message if len(text.split()) <= SHORT_ANSWER_WORDS else first
        if (
            territory is None
            and pending == "territory"
            and len(answer.split()) <= SHORT_ANSWER_WORDS
            and not result.dont_know
        ):
            resolved = self.territories.resolve(answer)
            territory = resolved if resolved.status != "not_found" else None
        result.territory = territory
        for refine in self.refiners:
            result = refine(message, result)
        if result.dont_know and result.slots_found:
            result.dont_know = False  # "je sais pas trop, on est à Guéret" answers something
        return result

    def _age_speaks(self, evidence: dict[str, dict[str, float]], text: str, whole: str) -> None:
        """A structure that has existed for years consolidates (or develops, if it says so); one
        born this year is being created (thresholds in the script's `structure_age`). An
        established structure that plans something new develops."""
        stage = evidence["stage"]
        age = structure_age(text)
        rule = self.script.structure_age
        # Years alone may be a person's ("aide-soignante depuis quinze ans"): they say a
        # structure is established only when the speaker names one.
        a_structure = bool(set(evidence["profile"]) & ESTABLISHED_PROFILES)
        years = age is not None and age >= rule.consolidation_from_years
        established = bool(employees(text)) or (a_structure and years)
        # The plan may be in a question ("on veut lancer une webradio, qui peut aider ?").
        if established and plans.NEW_VENTURE.search(whole):
            # Its wish is growth, not a first idea.
            stage["developpement"] = (
                stage.get("developpement", 0.0) + stage.pop("emergence", 0.0) + rule.weight
            )
        if age is None:
            return
        if years:
            # Years say "established", not "stable": one that speaks of growing develops.
            grown = "developpement" if stage.get("developpement", 0.0) > 0 else "consolidation"
            stage[grown] = stage.get(grown, 0.0) + rule.weight
        elif age < rule.creation_below_years:
            stage["creation"] = stage.get("creation", 0.0) + rule.weight

    def _members_not_group(self, profile: dict[str, float], text: str) -> None:
        """ "on a une Scop, on est sept": a structure that exists counts its members, it is
        not a group without structure (a structure only planned leaves the group as it is)."""
        if "collectif" in profile and plans.FORM_NAMED.search(plans.present(text)):
            profile["collectif"] *= OPTIONS_FACTOR
