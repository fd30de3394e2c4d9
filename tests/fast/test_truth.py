"""Knowledge that stays true: renamed and closed bodies, ended periods, review dates."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.curation.truth import Renamed, TextCheck, load_renamed
from assistant.curation.validation import validate_knowledge
from assistant.settings import REPO_ROOT
from connectors.cli.main import app

TODAY = dt.date(2026, 11, 30)
RENAMED = load_renamed(REPO_ROOT / "knowledge" / "renamed.yaml")


def _problems(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    TextCheck(RENAMED, TODAY, lambda level, _where, message: found.append((level, message))).check(
        "here", [text]
    )
    return found


@pytest.mark.parametrize(
    "text",
    [
        "Inscrivez-vous à Pôle emploi avant de créer.",
        "Les OPCA financent la formation des salariés.",
        "Le groupe Humanis soutient le programme.",
        "La CRESS Normandie oriente les porteurs de projet.",
        "Le Mouves anime le réseau des entrepreneurs sociaux.",
    ],
)
def test_an_old_name_stated_as_current_is_an_error(text: str) -> None:
    assert [level for level, _ in _problems(text)] == ["error"]


@pytest.mark.parametrize(
    "text",
    [
        "Inscrivez-vous à France Travail avant de créer.",
        "Pôle emploi (devenu France Travail en 2024) avait lancé ce programme.",
        "Les OPCO financent la formation ; on parlait d'OPCA jusqu'en 2019, avant les OPCO.",
        "Le groupe Malakoff Humanis soutient le programme.",
        "La CRESS Normandie a été liquidée en juillet 2025.",
        "Voir la page pole-emploi.fr citée en source.",  # a URL, not a mention
    ],
)
def test_history_said_in_the_same_sentence_is_fine(text: str) -> None:
    assert _problems(text) == []


def test_an_ended_period_stated_as_current_is_a_warning() -> None:
    [(level, message)] = _problems("Le plan 2021-2024 finance les tiers-lieux ruraux.")
    assert level == "warning" and "2024" in message
    assert _problems("Le plan 2021-2024 finançait les tiers-lieux ruraux.") == []
    assert _problems("Le fonds couvre la période 2021-2027.") == []


def test_the_old_name_inside_the_new_one_does_not_count() -> None:
    humanis = next(r for r in RENAMED if r.old == "Humanis")
    assert isinstance(humanis, Renamed) and humanis.allowed_after_new
    assert not humanis.stale_in("Malakoff Humanis finance des projets.")
    assert humanis.stale_in("Humanis finance des projets.")


def test_every_card_and_entry_needs_a_reviewed_date(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(REPO_ROOT / "knowledge", copy)
    card = copy / "cards" / "national" / "bge.md"
    card.write_text(
        "\n".join(
            line for line in card.read_text().splitlines() if not line.startswith("reviewed:")
        )
        + "\n"
    )
    report = validate_knowledge(copy, None, {"23"}, {"75"}, 730, today=TODAY)
    assert any(
        p.level == "error" and p.where.endswith("bge.md") and "reviewed" in p.message
        for p in report.problems
    )


def test_knowledge_stale_lists_the_oldest_first() -> None:
    result = CliRunner().invoke(app, ["knowledge", "stale", "--limit", "400", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    dates = [r["reviewed"] for r in rows]
    assert dates == sorted(dates) and len(rows) > 100
    assert {r["what"] for r in rows} == {"card", "structure"}
    assert all(r["recheck"] for r in rows)
