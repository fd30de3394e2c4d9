"""Usage by partner, for curators: how many conversations each partner's pages opened (the
/embed frame records the partner's slug in the session's seed turn), how many reached an
orientation, when, and in which départements they ended.

Read from the sessions still kept (`SessionStore.partner_openings`), so the figures go with
them: a session erased (« oubli ») or purged by retention no longer counts. Nothing personal is
read or shown: no session id, no message, days rather than times. The partner is recorded for
these reports only; it is never shown to a person, never as an endorsement.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel

from assistant.sessions.base import SessionOpening

__all__ = ["SITE_LABEL", "DepartementCount", "PartnerUsage", "group_usage"]

# Sessions without a partner: opened on Aiguillage's own pages (or a frame without a slug).
SITE_LABEL = "site Aiguillage"


class DepartementCount(BaseModel):
    departement: str
    count: int


class PartnerUsage(BaseModel):
    partner: str | None  # the slug; None for the sessions opened without a partner
    label: str  # the slug, or SITE_LABEL
    conversations: int
    oriented: int  # of which reached an orientation (contacts proposed)
    first: dt.date  # the day the first of them was opened (UTC)
    last: dt.date  # the day the last of them was opened (UTC)
    departements: list[DepartementCount]  # where they ended, most frequent first
    no_departement: int  # ended without a known département

    @property
    def oriented_percent(self) -> int:
        return round(100 * self.oriented / self.conversations) if self.conversations else 0


def _usage(partner: str | None, openings: list[SessionOpening]) -> PartnerUsage:
    days = [opening.opened.astimezone(dt.UTC).date() for opening in openings]
    places = Counter(o.departement for o in openings if o.departement)
    return PartnerUsage(
        partner=partner,
        label=partner or SITE_LABEL,
        conversations=len(openings),
        oriented=sum(o.oriented for o in openings),
        first=min(days),
        last=max(days),
        departements=[
            DepartementCount(departement=code, count=count)
            for code, count in sorted(places.items(), key=lambda item: (-item[1], item[0]))
        ],
        no_departement=sum(1 for o in openings if not o.departement),
    )


def group_usage(openings: Iterable[SessionOpening]) -> list[PartnerUsage]:
    """One line per partner, most conversations first (then by slug); the sessions without a
    partner last, as the point of comparison."""
    by_partner: dict[str | None, list[SessionOpening]] = {}
    for opening in openings:
        by_partner.setdefault(opening.partner, []).append(opening)
    partners = sorted(
        (_usage(slug, found) for slug, found in by_partner.items() if slug is not None),
        key=lambda usage: (-usage.conversations, usage.label),
    )
    site = by_partner.get(None)
    return [*partners, _usage(None, site)] if site else partners
