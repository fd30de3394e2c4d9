"""Coverage report for curators: which territories × stages × needs have no local contact.

"Local" means a directory entry covering the département or its region (national entries are
always there, so they do not count): a hole here is where the directory needs work.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from assistant.orientation.directory import Structure
from assistant.territory.index import TerritoryIndex
from assistant.vocabulary import NEEDS, STAGES


class DepartementCoverage(BaseModel):
    departement: str
    name: str
    region: str
    local_entries: int
    missing_stages: list[str]  # stages with no local entry at all
    missing_needs: list[str]  # needs no local entry lists, whatever the stage
    holes: int  # (stage, need) pairs with no local entry serving both


class CoverageReport(BaseModel):
    departements: list[DepartementCoverage]
    total_pairs: int
    covered_pairs: int

    @property
    def share_covered(self) -> float:
        return self.covered_pairs / self.total_pairs if self.total_pairs else 0.0


def coverage_report(structures: Iterable[Structure], territories: TerritoryIndex) -> CoverageReport:
    active = [s for s in structures if s.status == "active" and not s.coverage.national]
    rows: list[DepartementCoverage] = []
    covered = total = 0
    for code in territories.departement_codes:
        region = territories.region_of(code) or ""
        local = [
            s for s in active if code in s.coverage.departements or region in s.coverage.regions
        ]
        holes = 0
        for stage in STAGES:
            for need in NEEDS:
                total += 1
                if any(stage in s.stages and need in s.needs for s in local):
                    covered += 1
                else:
                    holes += 1
        rows.append(
            DepartementCoverage(
                departement=code,
                name=territories.departement_name(code) or code,
                region=region,
                local_entries=len(local),
                missing_stages=[st for st in STAGES if not any(st in s.stages for s in local)],
                missing_needs=[n for n in NEEDS if not any(n in s.needs for s in local)],
                holes=holes,
            )
        )
    return CoverageReport(departements=rows, total_pairs=total, covered_pairs=covered)
