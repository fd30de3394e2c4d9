"""The slots the diagnostic fills, as one registry the engine loops over.

A slot is *scored* (one value, decided by weighted evidence: stage, profile), *many* (a list
that grows: needs) or a *count* (employees). Setting a value and echoing it back ("étape :
consolidation") goes through `set_value`, so a new slot is one entry here plus its questions
in the diagnostic script; the French of each echo lives in the script's `messages.understood`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.dialogue.state import DiagnosticState
from assistant.vocabulary import NEED_LABELS, PROFILE_LABELS, STAGE_LABELS

Kind = Literal["scored", "many", "count"]


@dataclass(frozen=True)
class SlotSpec:
    name: str
    kind: Kind
    labels: dict[str, str] | None = None  # value -> French label, for the echo
    short: bool = False  # echo the label without its parenthesised gloss


SLOTS: dict[str, SlotSpec] = {
    spec.name: spec
    for spec in (
        SlotSpec("profile", "scored", PROFILE_LABELS),
        SlotSpec("stage", "scored", STAGE_LABELS, short=True),
        SlotSpec("needs", "many", NEED_LABELS),
        SlotSpec("employees", "count"),
    )
}
SCORED = tuple(name for name, spec in SLOTS.items() if spec.kind == "scored")
# Questions that "non" answers ("déjà créée ?" "non, c'est juste l'idée"): not a correction.
ANSWERED_BY_NO = frozenset({"stage", "profile", "employees", "territory"})


class Understood:
    """What this message taught, echoed back once per slot: a later reading of a single-valued
    slot replaces the earlier one ("association" refined to "association employeuse")."""

    def __init__(self, formats: dict[str, str]) -> None:
        self.formats = formats
        self._items: list[tuple[str, str]] = []

    def add(self, slot: str, label: str, replace: bool = True) -> None:
        if replace:
            self._items = [(s, text) for s, text in self._items if s != slot]
        text = self.formats.get(slot, "{value}").format(value=label)
        self._items.append((slot, text))

    def keep_changes(
        self, before: DiagnosticState, after: DiagnosticState, slots: Iterable[str]
    ) -> None:
        """Forget the slots that moved and moved back within the turn: nothing new to echo
        (an employing association read as an association, then inferred employing again)."""
        kept = {slot for slot in slots if getattr(after, slot) == getattr(before, slot)}
        self._items = [(s, text) for s, text in self._items if s not in kept]

    def texts(self) -> list[str]:
        return [text for _, text in self._items]

    def __bool__(self) -> bool:
        return bool(self._items)


def echo_label(spec: SlotSpec, value: str) -> str:
    """The lower-case label of a value (without its parenthesised gloss for a `short` slot)."""
    label = (spec.labels or {}).get(value, value)
    return (label.split(" (")[0] if spec.short else label).lower()


def set_value(state: DiagnosticState, slot: str, value: str, understood: Understood) -> None:
    """Put one value in the state and echo it (a `many` slot appends; a `count` is silent)."""
    spec = SLOTS[slot]
    if spec.kind == "many":
        values: list[str] = getattr(state, slot)
        if value not in values:
            values.append(value)
            understood.add(slot, echo_label(spec, value), replace=False)
    elif spec.kind == "count":
        setattr(state, slot, int(value))
    else:
        setattr(state, slot, value)
        understood.add(slot, echo_label(spec, value))
    if slot in state.unknown:
        state.unknown.remove(slot)
