"""Corrections proposed by the structures themselves: what they may correct, how a proposal is
checked, and the store seam that keeps proposals until a curator decides.

A proposal is never published by itself: it waits in the store (`ProposalStore`, SQL beside the
sessions or in memory for tests) until a curator accepts it, which edits the directory entry
(`directory_edit.apply_correction`), or rejects it. The e-mail is optional and kept only so
that the curator can answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal, Protocol, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel

from assistant.curation.validation import EMAIL, PHONE, SHORT_NUMBER  # what validate accepts
from assistant.orientation.directory import Structure

__all__ = [
    "FIELD_LABELS",
    "MAX_VALUE_CHARS",
    "CorrectableField",
    "Proposal",
    "ProposalDraft",
    "ProposalStatus",
    "ProposalStore",
    "check_draft",
    "current_value",
    "forget_old_emails",
]

CorrectableField = Literal[
    "name", "website", "email", "phone", "address", "how_to_reach", "carrier"
]
ProposalStatus = Literal["pending", "accepted", "rejected"]
CONTACT_FIELDS: frozenset[str] = frozenset({"website", "email", "phone", "address"})

# What the form offers, in French, in this order.
FIELD_LABELS: dict[str, str] = {
    "website": "Site web",
    "email": "Adresse e-mail de contact",
    "phone": "Téléphone",
    "address": "Adresse postale",
    "name": "Nom de la structure",
    "how_to_reach": "Comment nous joindre (texte)",
    "carrier": "Structure porteuse",
}
assert set(FIELD_LABELS) == set(get_args(CorrectableField))

MAX_VALUE_CHARS = 500
MAX_URL_CHARS = 500


class ProposalDraft(BaseModel):
    """What a structure sends through the form, before any check."""

    structure_id: str
    field: str
    value: str
    page_url: str
    email: str = ""


class Proposal(BaseModel):
    """A stored proposal."""

    id: int
    structure_id: str
    field: CorrectableField
    value: str
    page_url: str
    email: str | None = None
    created_at: dt.datetime
    status: ProposalStatus = "pending"
    decided_at: dt.datetime | None = None


class ProposalStore(Protocol):
    """Where proposals wait for a curator (SQL beside the sessions, or memory)."""

    def add(self, draft: ProposalDraft, now: dt.datetime | None = None) -> Proposal:
        """Store a checked draft as a pending proposal."""
        ...

    def get(self, proposal_id: int) -> Proposal | None: ...

    def list(self, status: ProposalStatus | None = None, limit: int = 200) -> list[Proposal]:
        """Newest first."""
        ...

    def decide(
        self, proposal_id: int, status: ProposalStatus, now: dt.datetime | None = None
    ) -> Proposal:
        """Mark a pending proposal accepted or rejected (KeyError if unknown)."""
        ...

    def forget_emails(self, decided_before: dt.datetime) -> int:
        """Erase the e-mail of proposals decided before that moment (kept only so that the
        curator can answer); how many were erased. The proposals stay, as the record."""
        ...


def forget_old_emails(
    store: ProposalStore, retention_days: int, now: dt.datetime | None = None
) -> int:
    """GDPR storage limitation: a proposal's e-mail serves only the curator's answer, so it is
    erased once the proposal has been decided for longer than the sessions' retention."""
    now = now or dt.datetime.now(dt.UTC)
    return store.forget_emails(now - dt.timedelta(days=retention_days))


def _is_public_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and "." in parts.netloc and " " not in url


def clean(draft: ProposalDraft) -> ProposalDraft:
    """Whitespace trimmed and collapsed (a pasted value often carries a newline)."""
    return ProposalDraft(
        structure_id=draft.structure_id.strip(),
        field=draft.field.strip(),
        value=" ".join(draft.value.split()),
        page_url=draft.page_url.strip(),
        email=draft.email.strip(),
    )


def check_draft(draft: ProposalDraft, structures: Mapping[str, Structure]) -> dict[str, str]:
    """The French reason each field is refused, by form field name (empty: acceptable)."""
    errors: dict[str, str] = {}
    if draft.structure_id not in structures:
        errors["structure_id"] = "Cette structure n'est pas dans l'annuaire."
    if draft.field not in FIELD_LABELS:
        errors["field"] = "Choisissez ce qui est à corriger dans la liste."
    value = draft.value
    if not value:
        errors["value"] = "Indiquez la bonne valeur."
    elif len(value) > MAX_VALUE_CHARS:
        errors["value"] = f"La valeur est trop longue ({MAX_VALUE_CHARS} caractères au plus)."
    elif draft.field == "website" and not _is_public_url(value):
        errors["value"] = "Un site web commence par https:// (ou http://)."
    elif draft.field == "email" and not EMAIL.fullmatch(value):
        errors["value"] = "Cette adresse e-mail n'a pas la bonne forme (nom@domaine.fr)."
    elif (
        draft.field == "phone" and not PHONE.fullmatch(value) and not SHORT_NUMBER.fullmatch(value)
    ):
        errors["value"] = "Indiquez un numéro français à 10 chiffres (ex. 05 55 12 34 56)."
    elif (
        draft.structure_id in structures
        and draft.field in FIELD_LABELS
        and current_value(structures[draft.structure_id], draft.field) == value
    ):
        errors["value"] = "C'est déjà la valeur de l'annuaire."
    if not draft.page_url:
        errors["page_url"] = "Indiquez la page publique qui montre la bonne valeur."
    elif len(draft.page_url) > MAX_URL_CHARS or not _is_public_url(draft.page_url):
        errors["page_url"] = "L'adresse de la page doit commencer par https:// (ou http://)."
    if draft.email and (len(draft.email) > 254 or not EMAIL.fullmatch(draft.email)):
        errors["email"] = "Cette adresse e-mail n'a pas la bonne forme (ou laissez vide)."
    return errors


def current_value(structure: Structure, field: str) -> str | None:
    """What the directory says today for a correctable field."""
    if field in CONTACT_FIELDS:
        value = getattr(structure.contact, field)
    else:
        value = getattr(structure, field)
    return value if isinstance(value, str) else None
