"""Does every contact the assistant proposes give a way in? (scripts/evaluate.py)

Replays the scenario files (the project's and the held-out ones), asks for the contacts at the
end of each, and counts the contacts with neither a sourced site, e-mail or phone of their own
nor a finder (network finder page, network's national site, region's CRESS).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.dialogue.engine import Engine
from assistant.dialogue.scenarios import collect
from assistant.dialogue.state import DiagnosticState

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIRS = [ROOT / "tests" / "scenarios", ROOT / "tests" / "holdout" / "dev"]


@dataclass
class ReachReport:
    proposed: int = 0
    own: int = 0
    by_finder: Counter[str] = field(default_factory=Counter)
    without: Counter[str] = field(default_factory=Counter)  # entry id -> times proposed

    def as_json(self) -> dict[str, Any]:
        return {
            "contacts_proposed": self.proposed,
            "with_own_contact": self.own,
            "with_finder": dict(self.by_finder),
            "without_way_in": self.proposed - self.own - sum(self.by_finder.values()),
            "entries_without_way_in": dict(self.without.most_common()),
        }


def contact_reach(engine: Engine, folders: list[Path] = SCENARIO_DIRS) -> ReachReport:
    report = ReachReport()
    for path in collect([f for f in folders if f.is_dir()]):
        state = DiagnosticState()
        # The held-out files carry an informative `register` key the loader refuses: read turns.
        for turn in yaml.safe_load(path.read_text(encoding="utf-8"))["turns"]:
            state = engine.handle(state, turn).state
        for contact in engine.orientation_for(state).contacts:
            report.proposed += 1
            if contact.contact.way_in():
                report.own += 1
            elif contact.finder:
                report.by_finder[contact.finder.kind] += 1
            else:
                report.without[contact.id] += 1
    return report


def print_reach(report: ReachReport) -> None:
    data = report.as_json()
    print(f"\nContacts proposed over the scenarios: {data['contacts_proposed']}")
    print(f"  with their own sourced site, e-mail or phone: {data['with_own_contact']}")
    print(f"  with a finder: {data['with_finder']}")
    print(f"  without a way in: {data['without_way_in']}")
    for ident, times in report.without.most_common(15):
        print(f"    - {ident} ({times}×)")
