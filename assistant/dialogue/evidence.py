"""How one message's clues add to the evidence the state keeps for the scored slots.

Stage and profile are decided by weight of evidence (engine._decide): each message's clues
add to what the conversation said before, which fades a little at every turn. Here are the
weights of each kind of clue, and how a plan becomes the present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assistant.dialogue.conditions import SAID_PLAINLY
from assistant.dialogue.slots import ANSWERED_BY_NO, SCORED
from assistant.dialogue.state import DiagnosticState
from assistant.understanding.extraction import ESTABLISHED_PROFILES, LEGAL_FORMS, Extraction
from assistant.vocabulary import Need

__all__ = [
    "ANSWER_WEIGHT",
    "CORRECTION_WEIGHT",
    "EXPLICIT_WEIGHT",
    "HINT_WEIGHT",
    "READING_WEIGHT",
    "add_evidence",
    "needs_kept",
    "plan_made_real",
    "reading_weight",
]

ANSWER_WEIGHT = 1.5  # words given in answer to the question weigh more
CORRECTION_WEIGHT = 3.0
GROWTH_WEIGHT = 1.0  # a structure said to exist that now plans something new
HINT_WEIGHT = 0.5  # a reading by meaning alone: as one "weak" keyword of the script
# The description classifier's confident reading of all the person said (semantic.py), added
# in each decision; calibrated with its thresholds (see there): more than one keyword, less
# than a plain statement ("on a créé l'asso en 2009" weighs 2).
READING_WEIGHT = 1.5
EXPLICIT_WEIGHT = 100.0  # a quick reply or an inference settles the slot
EARLY_STAGES = ("emergence", "creation")
LATER_STAGES = ("consolidation", "developpement")
NAMED_FORM = 0.3  # evidence from which a legal form counts as named (even among options)

Reinterpret = Callable[[str, dict[str, float], DiagnosticState], dict[str, float]]


def add_evidence(
    state: DiagnosticState,
    extraction: Extraction,
    pending: str | None,
    decay: float,
    reinterpret: Reinterpret,
) -> None:
    """Fade the earlier evidence of each scored slot, then add this message's clues."""
    # "ah non, c'est à Aubusson" corrects the place: read by meaning, its words would only
    # lend the other slots a guess.
    place_fix = extraction.correction and extraction.territory is not None
    grows_later(state, extraction)
    for slot in SCORED:
        evidence = state.evidence.setdefault(slot, {})
        for value in evidence:
            if evidence[value] < EXPLICIT_WEIGHT:
                evidence[value] *= decay
        scores = extraction.evidence.get(slot, {})
        hint = None if place_fix else extraction.hints.get(slot)
        if not scores and hint and not any(evidence.values()):
            # The semantic layer's reading fills a slot nothing else spoke for.
            scores = {hint: HINT_WEIGHT}
        if not scores:
            continue
        factor = 1.0
        # "pardon, l'entreprise est à Quimperlé": a correction of the place whose other words
        # are weak ("l'entreprise") leaves the Scop said before as it is.
        weak_aside = place_fix and max(scores.values()) < 1.0
        if extraction.correction and not weak_aside:
            evidence.clear()  # "ah non, en fait…": earlier clues no longer count…
            if slot == "stage":
                state.stage_peak.clear()  # …nor how strongly they were said
            factor = CORRECTION_WEIGHT
        elif pending == slot:
            factor = ANSWER_WEIGHT
        # Read against what still stands: a corrected stage no longer reinterprets the new one.
        scores = reinterpret(slot, scores, state)
        for value, score in scores.items():
            evidence[value] = evidence.get(value, 0.0) + score * factor
        if slot == "stage" and extraction.evidence.get("stage"):  # said in words
            for value, score in scores.items():
                state.stage_peak[value] = max(state.stage_peak.get(value, 0.0), score)


def plan_made_real(state: DiagnosticState, extraction: Extraction) -> None:
    """ "on veut créer une asso" … "les statuts sont déposés": the form planned earlier is
    what speaks now; the group that planned it is its members."""
    planned = state.planned
    named_now = [v for v in extraction.evidence.get("profile", {}) if v in LEGAL_FORMS]
    if extraction.correction and not (extraction.exists and not named_now):
        # "non, plutôt une Scop": the earlier plan is dropped ("enfin créer, on l'a déjà
        # créée en 2022" corrects the stage: the plan was made real)
        planned.clear()
    for value, weight in extraction.planned.items():
        planned[value] = planned.get(value, 0.0) + weight
    profile = state.evidence.setdefault("profile", {})
    if not extraction.exists or not (planned or named_now):
        return
    form = max(named_now or planned, key=lambda v: (planned.get(v, 0.0), v in named_now))
    profile[form] = profile.get(form, 0.0) + CORRECTION_WEIGHT
    for speaker in ("collectif", "individuel"):
        if speaker in profile and profile[speaker] < EXPLICIT_WEIGHT:
            profile[speaker] *= 0.5
    planned.clear()


def reading_weight(
    slot: str,
    value: str,
    evidence: dict[str, float],
    planned: Mapping[str, float] | None = None,
    employs: bool = False,
    peak: Mapping[str, float] | None = None,
) -> float:
    """What the classifier's reading of the story adds to `value`: nothing when it names a
    legal family other than a form the person named ("une Scop de 9 salariés" read as an
    employing association): it may tell an association that employs from one that does
    not, not overrule the words. Nor when it reads the form the person only plans ("on a
    pas encore fait l'asso"): a plan is not who speaks, unless people are paid (then a
    structure exists: "on a décidé de la reprendre en Scop… on est toujours huit")."""
    if slot == "stage" and value in EARLY_STAGES and employs:
        # "une association d'aide à domicile depuis quinze ans … emploie trois personnes": a
        # structure that pays people and is said in words to be established (its years,
        # `peak`) is not read back to its beginnings. (Years alone may be a person's: "maçon
        # depuis 20 ans, je veux créer…")
        established = any((peak or {}).get(v, 0.0) >= SAID_PLAINLY for v in LATER_STAGES)
        return 0.0 if established else READING_WEIGHT
    if slot != "profile":
        return READING_WEIGHT
    family = LEGAL_FORMS.get(value)
    planned_only = {LEGAL_FORMS[v] for v in planned or {} if v in LEGAL_FORMS}
    if (
        family
        and family in planned_only
        and not employs
        and not any(v in LEGAL_FORMS for v in evidence)
    ):
        return 0.0
    # (a group or a person read stays: the words may name a form only planned, "on veut
    # créer une asso", which a reading of who speaks corrects; measured, session 10)
    named = {LEGAL_FORMS[v] for v, w in evidence.items() if v in LEGAL_FORMS and w >= NAMED_FORM}
    if family and named and family not in named:
        return 0.0
    return READING_WEIGHT


def needs_kept(state: DiagnosticState, extraction: Extraction, pending: str | None) -> list[Need]:
    """The needs said before that still hold: "non, plutôt du financement" replaces them
    (needs named in words, not read by meaning; a "non" answering another question is an
    answer), "le local c'est réglé" removes one."""
    only_needs = extraction.territory is None and not extraction.evidence.get("profile")
    only_needs = only_needs and pending not in ANSWERED_BY_NO
    named = extraction.correction and extraction.named_needs
    if extraction.needs and named and (pending == "needs" or only_needs):
        return []
    return [n for n in state.needs if n not in extraction.settled_needs]


def grows_later(state: DiagnosticState, extraction: Extraction) -> None:
    """ "depuis vingt ans je tiens la bibliothèque associative" … "on voudrait en faire
    quelque chose de plus grand": a structure established earlier in the conversation that
    plans something new develops (said in one message, extraction.py reads it itself)."""
    stage = extraction.evidence.get("stage", {})
    # (or a structure named before whose years this message gives: "entreprise d'insertion" …
    # "Creil, depuis 2011. on veut embaucher 10 personnes de plus")
    aged = state.profile in ESTABLISHED_PROFILES and stage.get("consolidation", 0.0) > 0
    established = state.stage in ("consolidation", "developpement") or bool(state.employees) or aged
    place = extraction.territory
    if established and extraction.opens_elsewhere and "implantation" not in extraction.needs:
        # "9 salariés" … "aller sur Rennes et Angers": said in words, not read by meaning
        extraction.needs.append("implantation")
        extraction.named_needs.append("implantation")
    if (
        extraction.new_venture
        and established
        and place is not None
        and place.status == "found"
        and state.commune_code
        and place.commune_code not in (None, state.commune_code)
        and "implantation" not in extraction.needs
    ):
        # "siae à Alès" … "ouvrir à Nîmes": opening where it is not yet
        extraction.needs.append("implantation")
    opens = extraction.new_venture or extraction.opens_elsewhere  # "antenne à Embrun"
    if opens and established and "developpement" not in stage:
        grown = dict(stage)
        moved = grown.pop("consolidation", 0.0) if aged else 0.0  # years say established
        grown["developpement"] = grown.get("developpement", 0.0) + GROWTH_WEIGHT + moved
        extraction.evidence["stage"] = grown
