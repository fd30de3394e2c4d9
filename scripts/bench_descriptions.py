"""How the diagnostic reads whole descriptions it never learned from (tests/devsets/).

Outside authors, who saw neither the rules nor any case file, wrote labelled descriptions
(stage, profile, needs); the ones named here are kept out of the classifiers' training data
(`knowledge/diagnostic/descriptions.yaml`, checked below). `descriptions6.yaml` calibrated the
thresholds (so its figures are tuned on); `descriptions7.yaml` and `descriptions8.yaml` were
a fresh measure until session 8, which tuned the rules on them; `descriptions9.yaml` and
`descriptions10.yaml` (session 8) were the fresh figure then. Since session 12 the needs of
descriptions5-10 are training data (refused here); descriptions11-12 decided that, and
`descriptions13.yaml` is the fresh measure. Each description is sent as one
message to a new conversation. Prints, for the rules alone and for the rules with the semantic layer
(clause examples, description classifier, needs classifier), in one run:

- stage and profile accuracy, where the file labels them;
- needs: the share of descriptions whose every labelled need was found, and how many needs
  were found that the person did not express (per description);
- every label right.

    python scripts/bench_descriptions.py [FILE ...] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml
from benchlib import load  # scripts/ is on sys.path when run
from eval_sets import DEVSETS

from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.understanding.semantic import load_descriptions

DEFAULT_FILES = [DEVSETS / f"descriptions{n}.yaml" for n in (11, 12)]


def _labelled(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [e for e in entries if e.get("stage") or e.get("profile") or e.get("needs")]


def _never_trained_on(runtime: Runtime, entries: list[dict[str, Any]], path: Path) -> None:
    trained = {
        d.text
        for d in load_descriptions(
            runtime.settings.knowledge_dir / "diagnostic" / "descriptions.yaml"
        )
    }
    leaked = [e["text"][:60] for e in entries if e["text"] in trained]
    if leaked:
        raise SystemExit(f"{path.name}: {len(leaked)} descriptions are training data: {leaked[:2]}")


def read(runtime: Runtime, entries: list[dict[str, Any]]) -> dict[str, Any]:
    right: dict[str, list[bool]] = {"stage": [], "profile": [], "needs": []}
    every, not_said = [], []
    for entry in entries:
        state = runtime.engine.handle(DiagnosticState(), entry["text"]).state
        ok = True
        for slot in ("stage", "profile"):
            if entry.get(slot):
                right[slot].append(getattr(state, slot) == entry[slot])
                ok = ok and right[slot][-1]
        if entry.get("needs"):
            right["needs"].append(all(n in state.needs for n in entry["needs"]))
            not_said.append(len([n for n in state.needs if n not in entry["needs"]]))
            ok = ok and right["needs"][-1]
        every.append(ok)
    report: dict[str, Any] = {
        f"{slot}_accuracy": [round(sum(v) / len(v), 4), len(v)] for slot, v in right.items() if v
    }
    report["needs_not_said_per_description"] = round(sum(not_said) / max(1, len(not_said)), 3)
    report["every_label_right"] = round(sum(every) / max(1, len(every)), 4)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runtimes = {
        "rules_only": Runtime(Settings(semantic_understanding=False)),
        "rules_and_semantic": Runtime(Settings(semantic_understanding=True)),
    }
    report: dict[str, Any] = {"load": load()}
    for path in args.files:
        entries = _labelled(path)
        _never_trained_on(runtimes["rules_and_semantic"], entries, path)
        report[path.name] = {"descriptions": len(entries)}
        for mode, runtime in runtimes.items():
            report[path.name][mode] = read(runtime, entries)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for key, value in report.items():
        if not isinstance(value, dict):
            print(f"{key}: {value}")
            continue
        print(f"{key} ({value['descriptions']} descriptions):")
        for mode in runtimes:
            figures = ", ".join(f"{name} {figure}" for name, figure in value[mode].items())
            print(f"  {mode}: {figures}")


if __name__ == "__main__":
    main()
