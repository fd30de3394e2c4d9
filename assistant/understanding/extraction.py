"""Reading slots out of messy French, driven by the diagnostic script's keyword lists.

Matching happens on folded text (no accents, lower case, hyphens as spaces), one slot value
at a time (matching.py: negations, typos, needs said as settled); here the clues are weighed
together: plans and their speakers, a structure's age and staff, places, corrections.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property

from pydantic import BaseModel, Field

from assistant.territory.index import Resolution, TerritoryIndex
from assistant.text import WORD_START, Respeller, normalise
from assistant.understanding import plans
from assistant.understanding.matching import KeywordMatcher
from assistant.understanding.quantities import employees, structure_age
from assistant.understanding.script import DiagnosticScript, Slot
from assistant.understanding.told import QUESTION_START, described, needs_said

_CORRECTION = re.compile(
    r"^(ah,? |oh,? |oh la( la)?,? |ah la( la)?,? |oula,? |euh,? |mais |si |bon,? |alors,? |heu,? |"
    r"oups,? |oops |zut |mince |ah zut |enfin,? |"
    r"excusez moi,? |excuse moi,? |pardonnez moi,? |petite |une petite |juste une |une )*"
    r"(non|en fait|pardon|desolee?|dsl|plutot|je me suis trompe|oups|oops|"
    r"erreur|correction|je rectifie|rectification|je corrige|enfin non|enfin pas|"
    r"je me reprends|je reprends|je precise|precision ?:|"
    # "enfin seul… on est trois", "enfin créer, on l'a déjà créée": a word taken back
    r"enfin [a-z]+ ?(?:\.\.\.|…|,)|"
    r"je voulais dire|c'est pas ca|pas du tout)\b"
)
_NOT_THERE = re.compile(
    r"\b(?:et |mais )?pas (?:le |la |les |l'|du |des |de l'|de la |dans le |dans la |dans les |"
    r"dans l'|en |a |au |aux |a la |celui |celle )?(?=[a-z0-9])"
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
# An established structure opening or settling somewhere named with a capital ("on voudrait
# ouvrir à Aix et à Martigues", "nous installer durablement en Thiérache"): implantation. (A
# newcomer opening at home, "ouvrir une épicerie à Felletin", is not established.)
_ELSEWHERE = re.compile(
    r"\b(ouvrir|m'installer|s'installer|nous installer|s'implanter|nous implanter|s'[ée]tendre|"
    r"nous [ée]tendre|essaimer|aller|se d[ée]velopper|nous d[ée]velopper|d[ée]ployer|"
    r"se d[ée]ployer|nous d[ée]ployer|dupliquer|s'agrandir|"
    # "une antenne à Embrun", "un deuxième atelier à Dole": a second place is named
    r"antennes?|succursales?|(?:un|une) (?:deuxi[èe]me|seconde?|autre|nouvel(?:le)?) [a-zéè]+|"
    r"nouvel [ée]tablissement)\b[^.!?]{0,40}?"
    r"\b(à|a|en|au|aux|dans|sur|vers) (la |le |les |l')?[A-ZÉÈÎa-zéèî]"
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
    new_venture: bool = (
        False  # something new to open or grow ("en faire quelque chose de plus grand")
    )
    # "ouvrir à Aix", "aller sur rennes": a place to open in, named (implantation for a
    # structure established in this message or an earlier one)
    opens_elsewhere: bool = False
    employees: int | None = None
    sector: str | None = None
    context: list[str] = Field(default_factory=list)
    dont_know: bool = False
    correction: bool = False
    # "Montreuil-sur-Mer, pas le 93 !", "Saint-Paul-lès-Dax, pas La Réunion": the
    # départements said not to be the place (the engine puts right the one it knows)
    denied_departements: list[str] = Field(default_factory=list)
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


SHORT_ANSWER_WORDS = 5
OPTIONS_FACTOR = 0.3
PAST_CREATION_YEARS = 5  # a creation told of a structure this old is its history
# Who speaks for a structure that exists (not a group or a person, who may only plan one).
ESTABLISHED_PROFILES = frozenset(
    {"association", "association-employeuse", "entreprise", "scop-scic", "siae", "collectivite"}
)
# Profile values by legal family: "asso … 6 salariés" names one family, not two options.
# An association that is itself the insertion structure: "on est conventionnés ACI", "notre
# association porte un chantier d'insertion".
_RUNS_INSERTION = re.compile(
    r"\b(conventionn\w*|porte|portons|gere|gerons|agree\w*|on est|nous sommes)\b"
    r"(?:(?!\bavec\b|\bpartenaire)[^.?!]){0,40}"
    r"\b(chantier d'insertion|atelier chantier|aci|entreprise d'insertion|ei|etti|"
    r"association intermediaire|structure d'insertion|siae)\b"
)
# A company named without its form: "l'entreprise", "la boîte".
_GENERIC_COMPANY = re.compile(r"\b(entreprise|entreprises|boite|societe)\b")

LEGAL_FORMS = {
    "association": "association",
    "association-employeuse": "association",
    "scop-scic": "cooperative",
    "entreprise": "entreprise",
    "siae": "insertion",
}


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
    def _compiled(self) -> dict[str, dict[str, KeywordMatcher]]:
        compiled = {
            name: {
                value: KeywordMatcher(
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
            # (not for a structure of one's own that might become one: "notre association …
            # peut-être en devenant chantier d'insertion")
            insertion_project = (
                value == "siae"
                and not plans.NO_STRUCTURE.search(text)
                and not plans.OURS.search(text)
            )
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
        established = False
        if told:
            result.evidence = {slot: self.scores(slot, told) for slot in ("stage", "profile")}
            established = self._age_speaks(result.evidence, told, text)
            plans.speaker_of_plan(result.evidence["profile"], told)
            plans.founders_speak(result.evidence["profile"], told)
            self._members_not_group(result.evidence["profile"], told)
            mentioned = self.scores("profile", told, planned_too=True)
            self._company_is_the_form(result.evidence["profile"], mentioned, told)
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
        self._read_needs(result, text, message, established)
        if "sector" in self.script.slots:
            sectors = self.values_in("sector", text)
            result.sector = sectors[0] if sectors else None
        if "context" in self.script.slots:
            result.context = self.values_in("context", text)
        result.employees = employees(text)
        result.exists = plans.says_it_exists(told)
        result.new_venture = bool(plans.NEW_VENTURE.search(told))
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
        if territory is not None:
            result.denied_departements = self._denied_departements(text)
        for refine in self.refiners:
            result = refine(message, result)
        if result.dont_know and result.slots_found:
            result.dont_know = False  # "je sais pas trop, on est à Guéret" answers something
        return result

    def _read_needs(self, result: Extraction, text: str, message: str, established: bool) -> None:
        """The needs named in words, and those said as already settled."""
        text = needs_said(text)
        result.needs = self.values_in("needs", text)
        result.opens_elsewhere = self._opens_elsewhere(message)
        if established and "implantation" not in result.needs and result.opens_elsewhere:
            result.needs.append("implantation")  # "12 salariés … on voudrait ouvrir à Aix"
        result.named_needs = list(result.needs)
        result.settled_needs = [
            need
            for need, matcher in self._compiled["needs"].items()
            if need not in result.needs and matcher.said_settled(text)
        ]

    def _denied_departements(self, text: str) -> list[str]:
        """ "pas le 93", "pas dans le Jura", "pas La Réunion": places said not to be the one
        (only a département counts: "pas cher" names the Cher, and only the engine knows
        whether that is the place it had)."""
        denied: list[str] = []
        for match in _NOT_THERE.finditer(text):
            named = " ".join(text[match.end() :].split()[:3])
            place = self.territories.find_in_text(f"à {named}", lenient=True)
            if place is not None and place.status == "found" and place.departement:
                denied.append(place.departement)
        return denied

    def _opens_elsewhere(self, message: str) -> bool:
        """A place (the territory data says so, exactly) named right after "ouvrir … à",
        "s'installer en": not "ouvrir un dossier à la CAF", "un compte au Crédit Agricole"."""
        for match in _ELSEWHERE.finditer(message):
            named = " ".join(message[match.end() - 1 :].split()[:4])
            place = self.territories.find_in_text(f"à {named}")
            if place is not None and place.status != "not_found" and not place.fuzzy:
                return True
        return False

    def _age_speaks(self, evidence: dict[str, dict[str, float]], text: str, whole: str) -> bool:
        """A structure that has existed for years consolidates (or develops, if it says so); one
        born this year is being created (thresholds in the script's `structure_age`). An
        established structure that plans something new develops. Whether it is established."""
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
        if established and plans.GROWS_BY_PURCHASE.search(whole):
            # what it buys grows it: the takeover words do not create it
            stage["developpement"] = stage.get("developpement", 0.0) + stage.pop("creation", 0.0)
        if age is None:
            return established
        if years:
            # Years say "established", not "stable": one that speaks of growing develops.
            grown = "developpement" if stage.get("developpement", 0.0) > 0 else "consolidation"
            # "il y a quinze ans on a créé un atelier": long ago, the creation told is the
            # past's (a younger one may still be opening: "créée en 2022, pas encore ouvert")
            past = stage.pop("creation", 0.0) if age >= PAST_CREATION_YEARS else 0.0
            stage[grown] = stage.get(grown, 0.0) + rule.weight + past
        elif age < rule.creation_below_years:
            stage["creation"] = stage.get("creation", 0.0) + rule.weight
        return established

    def _company_is_the_form(
        self, profile: dict[str, float], mentioned: dict[str, float], text: str
    ) -> None:
        """ "une Scop de maçonnerie … l'entreprise tourne bien": the company is the Scop (or
        the insertion structure), not another form among options; so is an association that
        runs an insertion structure."""
        if "siae" in profile and _RUNS_INSERTION.search(text):
            # "une association … conventionnée chantier d'insertion": the association is
            # the insertion structure's legal vehicle, one structure, not two options (not
            # "on travaille avec une entreprise d'insertion", a partner).
            for vehicle in ("association", "association-employeuse"):
                mentioned.pop(vehicle, None)
                profile["siae"] += profile.pop(vehicle, 0.0)
        if "entreprise" not in mentioned or not {"scop-scic", "siae"} & set(mentioned):
            return
        if not self.scores("profile", _GENERIC_COMPANY.sub(" ", text), planned_too=True).get(
            "entreprise"
        ):
            mentioned.pop("entreprise")
            profile.pop("entreprise", None)

    def _members_not_group(self, profile: dict[str, float], text: str) -> None:
        """ "on a une Scop, on est sept": a structure that exists counts its members, it is
        not a group without structure (a structure only planned leaves the group as it is)."""
        if "collectif" in profile and plans.FORM_NAMED.search(plans.present(text)):
            profile["collectif"] *= OPTIONS_FACTOR
