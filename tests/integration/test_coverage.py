"""The curator's coverage report: holes are where no local structure serves a stage × need."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from assistant.curation.coverage import coverage_report
from assistant.orientation.directory import Coverage, Structure, StructureSource
from assistant.settings import REPO_ROOT
from assistant.territory.index import load_territories
from connectors.cli.main import app

TERRITORIES = load_territories(REPO_ROOT / "knowledge" / "territories" / "territories.json.gz")


def _entry(ident: str, coverage: Coverage, **fields: object) -> Structure:
    defaults: dict[str, object] = {
        "name": ident,
        "kind": "incubateur",
        "stages": ["emergence"],
        "needs": ["financement"],
        "description": "test",
        "how_to_reach": "test",
        "sources": [StructureSource(document="x.txt")],
    }
    return Structure.model_validate({"id": ident, "coverage": coverage, **defaults, **fields})


def test_one_local_entry_covers_exactly_its_pairs() -> None:
    report = coverage_report([_entry("a", Coverage(departements=["23"]))], TERRITORIES)
    creuse = next(r for r in report.departements if r.departement == "23")
    assert creuse.local_entries == 1
    assert creuse.holes == 4 * 14 - 1
    assert "financement" not in creuse.missing_needs and "emploi-rh" in creuse.missing_needs
    assert creuse.missing_stages == ["creation", "consolidation", "developpement"]
    assert report.covered_pairs == 1
    assert report.total_pairs == 101 * 4 * 14


def test_regional_entries_count_national_and_closed_do_not() -> None:
    structures = [
        _entry("reg", Coverage(regions=["75"])),
        _entry("nat", Coverage(national=True), needs=["juridique"]),
        _entry("closed", Coverage(departements=["87"]), needs=["local"], status="closed"),
    ]
    report = coverage_report(structures, TERRITORIES)
    rows = {r.departement: r for r in report.departements}
    assert rows["87"].local_entries == 1  # the regional one only
    assert "local" in rows["87"].missing_needs and "juridique" in rows["87"].missing_needs
    assert rows["2A"].local_entries == 0


def test_cli_reports_the_shipped_directory(tmp_path: Path) -> None:
    env = {**os.environ, "AIGUILLAGE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["knowledge", "coverage", "--json"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["departements"]) == 101
    assert 0 < payload["share_covered"] <= 1
    # Every département has at least its DLA and its region's entries.
    assert all(row["local_entries"] >= 1 for row in payload["departements"])
