"""The "fiche de synthèse": the project, the diagnostic, contacts and next steps, to forward
to an adviser, as Markdown and as a printable HTML page (both from templates in prompts/)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from assistant.dialogue.state import DiagnosticState
from assistant.orientation.contacts import OrientationResult
from assistant.render.composer import Composer
from assistant.territory.index import TerritoryIndex
from assistant.vocabulary import NEED_LABELS, PROFILE_LABELS, STAGE_LABELS


class Fiche(BaseModel):
    markdown: str
    html: str


class FicheBuilder:
    def __init__(self, composer: Composer, territories: TerritoryIndex) -> None:
        self.composer = composer
        self.territories = territories

    def context(self, state: DiagnosticState, result: OrientationResult) -> dict[str, object]:
        departement = (
            f"{self.territories.departement_name(state.departement)} ({state.departement})"
            if state.departement
            else None
        )
        return {
            "date": dt.date.today().strftime("%d/%m/%Y"),
            "summary": state.summary,
            "commune": state.commune,
            "departement": departement,
            "region": self.territories.region_name(state.region) if state.region else None,
            "stage": STAGE_LABELS.get(state.stage or ""),
            "profile": PROFILE_LABELS.get(state.profile or ""),
            "needs": [NEED_LABELS[n] for n in state.needs],
            "employees": state.employees,
            "sector": state.sector,
            "context": state.context,
            "for_client": state.speaking_for_client,
            "result": result,
        }

    def build(self, state: DiagnosticState, result: OrientationResult) -> Fiche:
        context = self.context(state, result)
        return Fiche(
            markdown=self.composer.render("fiche.md.j2", **context),
            html=self.composer.render_html("fiche.html.j2", **context),
        )
