"""The map of the départements (knowledge/territories/departements.svg) and what it shows:
each département's local coverage, and its gaps as a stage × need grid.

The SVG is data (origin and licence in departements-map.md): one `<path id="INSEE code">` per
département, plus a frame and a label per overseas inset. Coverage reuses `coverage_report`
("local" = a directory entry for the département or its region, national ones aside).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from assistant.curation.coverage import CoverageReport
from assistant.errors import KnowledgeError
from assistant.orientation.directory import Structure
from assistant.territory.index import TerritoryIndex
from assistant.vocabulary import NEEDS, STAGES

__all__ = [
    "COVERAGE_LEVELS",
    "DepartementGaps",
    "DepartementMap",
    "Inset",
    "Shape",
    "coverage_level",
    "departement_gaps",
    "load_departement_map",
]

_SVG = "{http://www.w3.org/2000/svg}"
# Share of stage × need pairs covered locally -> a level (0 worst), drawn as a colour and named
# (the directory of 2026-11 spans 39 % to 73 %: ten-point steps tell its départements apart).
COVERAGE_LEVELS = [
    (0.0, "aucune structure locale"),
    (0.5, "moins de 50 % couvert"),
    (0.6, "50 à 60 % couvert"),
    (0.7, "60 à 70 % couvert"),
    (0.8, "70 à 80 % couvert"),
    (1.01, "80 % ou plus couvert"),
]


class Shape(BaseModel):
    code: str
    d: str


class Inset(BaseModel):
    """The frame and label of an overseas département drawn apart."""

    code: str
    label: str
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float


class DepartementMap(BaseModel):
    view_box: str
    shapes: list[Shape]
    insets: list[Inset]


def load_departement_map(path: Path) -> DepartementMap:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise KnowledgeError(f"{path}: cannot read the map ({exc})") from exc
    shapes = [Shape(code=p.get("id", ""), d=p.get("d", "")) for p in root.iter(f"{_SVG}path")]
    labels = {
        t.get("x"): (t.text or "", float(t.get("x", 0)), float(t.get("y", 0)))
        for t in root.iter(f"{_SVG}text")
    }
    insets = []
    for rect in root.iter(f"{_SVG}rect"):
        x, width = float(rect.get("x", 0)), float(rect.get("width", 0))
        label = next((v for v in labels.values() if x <= v[1] <= x + width), ("", x, 0.0))
        insets.append(
            Inset(
                code=rect.get("data-for", ""),
                label=label[0],
                x=x,
                y=float(rect.get("y", 0)),
                width=width,
                height=float(rect.get("height", 0)),
                label_x=label[1],
                label_y=label[2],
            )
        )
    return DepartementMap(view_box=root.get("viewBox", ""), shapes=shapes, insets=insets)


def coverage_level(share: float, local_entries: int) -> int:
    """0 when nothing local at all, else the first level whose bound the share is under."""
    if local_entries == 0:
        return 0
    return next(n for n, (bound, _) in enumerate(COVERAGE_LEVELS) if n and share < bound)


def share_covered(report: CoverageReport, code: str) -> tuple[float, int]:
    """(share of pairs covered, local entries) of one département of the report."""
    row = next(r for r in report.departements if r.departement == code)
    pairs = len(STAGES) * len(NEEDS)
    return (pairs - row.holes) / pairs, row.local_entries


class GapCell(BaseModel):
    stage: str
    need: str
    structures: list[str]  # names of the local entries serving both; empty: a gap


class DepartementGaps(BaseModel):
    departement: str
    name: str
    region: str
    region_name: str
    local: list[str]  # names of the local entries
    stages: list[str]
    needs: list[str]
    cells: list[list[GapCell]]  # one row per stage, one cell per need

    @property
    def missing(self) -> int:
        return sum(1 for row in self.cells for cell in row if not cell.structures)


def departement_gaps(
    structures: Iterable[Structure], territories: TerritoryIndex, code: str
) -> DepartementGaps:
    """What the directory offers locally in a département, stage by need (same rule as
    `coverage_report`: active entries of the département or its region, national aside)."""
    region = territories.region_of(code) or ""
    local = [
        s
        for s in structures
        if s.status == "active"
        and not s.coverage.national
        and (code in s.coverage.departements or region in s.coverage.regions)
    ]
    cells = [
        [
            GapCell(
                stage=stage,
                need=need,
                structures=[s.name for s in local if stage in s.stages and need in s.needs],
            )
            for need in NEEDS
        ]
        for stage in STAGES
    ]
    return DepartementGaps(
        departement=code,
        name=territories.departement_name(code) or code,
        region=region,
        region_name=territories.region_name(region) or region,
        local=[s.name for s in local],
        stages=list(STAGES),
        needs=list(NEEDS),
        cells=cells,
    )
