"""Scenario files (PRODUCT.md): user turns plus the expected outcome, run against the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import yamlfile
from assistant.dialogue.engine import Engine
from assistant.dialogue.state import PROJECT_SLOTS, DiagnosticState
from assistant.errors import ScenarioError, describe
from assistant.vocabulary import Need, Profile, Stage, StructureKind


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage | None = None
    profile: Profile | None = None
    needs_include: list[Need] = Field(default_factory=list)
    departement: str | None = None
    region: str | None = None
    contacts_include_kinds: list[StructureKind] = Field(default_factory=list)
    contacts_exclude_kinds: list[StructureKind] = Field(default_factory=list)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    # How the person writes (sms, dictee, recit…): informative, for whoever reads the file.
    writing: str | None = Field(default=None, alias="register")
    turns: list[str] = Field(min_length=1)
    expect: Expectation = Field(default_factory=Expectation)
    path: str = ""


class ContactSummary(BaseModel):
    id: str
    name: str
    kind: str


class ScenarioResult(BaseModel):
    name: str
    passed: bool
    failures: list[str]
    state: dict[str, Any]
    contacts: list[ContactSummary]
    path: str = ""
    transcript: list[tuple[str, str]] = Field(default_factory=list)


class ScenarioReport(BaseModel):
    passed: int
    failed: int
    scenarios: list[ScenarioResult]


def load_scenario(path: Path) -> Scenario:
    try:
        data = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yamlfile.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with name, turns and expect")
    for key in ("departement", "region"):
        expect = data.get("expect") or {}
        if isinstance(expect, dict) and isinstance(expect.get(key), int):
            raise ScenarioError(f'{path}: expect.{key} must be a quoted string, e.g. "05"')
    try:
        return Scenario(**data, path=str(path))
    except ValidationError as exc:
        raise ScenarioError(f"{path}: {describe(exc, 'scenario')}") from exc
    except TypeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def collect(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")))
        elif path.is_file():
            files.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or folder")
    if not files:
        raise ScenarioError("no scenario file found")
    return files


def check(expect: Expectation, state: DiagnosticState, kinds: list[str]) -> list[str]:
    failures: list[str] = []
    for slot in ("stage", "profile", "departement", "region"):
        wanted = getattr(expect, slot)
        got = getattr(state, slot)
        if wanted is not None and wanted != got:
            failures.append(f"{slot}: expected {wanted!r}, got {got!r}")
    missing_needs = [n for n in expect.needs_include if n not in state.needs]
    if missing_needs:
        failures.append(f"needs: expected to include {missing_needs}, got {state.needs}")
    missing_kinds = [k for k in expect.contacts_include_kinds if k not in kinds]
    if missing_kinds:
        failures.append(f"contacts: expected kinds {missing_kinds}, got kinds {kinds}")
    unwanted = [k for k in expect.contacts_exclude_kinds if k in kinds]
    if unwanted:
        failures.append(f"contacts: kinds {unwanted} should not be proposed, got {kinds}")
    return failures


def run_scenario(engine: Engine, scenario: Scenario) -> ScenarioResult:
    state = DiagnosticState()
    transcript: list[tuple[str, str]] = []
    for turn in scenario.turns:
        result = engine.handle(state, turn)
        state = result.state
        transcript.append((turn, result.reply))
    orientation = engine.orientation_for(state)  # as if the user pressed "Voir mes contacts"
    kinds = [c.kind for c in orientation.contacts]
    failures = check(scenario.expect, state, kinds)
    return ScenarioResult(
        name=scenario.name,
        passed=not failures,
        failures=failures,
        state=state.model_dump(
            mode="json",
            include=set(PROJECT_SLOTS),
        ),
        contacts=[ContactSummary(id=c.id, name=c.name, kind=c.kind) for c in orientation.contacts],
        path=scenario.path,
        transcript=transcript,
    )


def run_all(engine: Engine, paths: list[Path]) -> ScenarioReport:
    results = [run_scenario(engine, load_scenario(p)) for p in collect(paths)]
    passed = sum(r.passed for r in results)
    return ScenarioReport(passed=passed, failed=len(results) - passed, scenarios=results)
