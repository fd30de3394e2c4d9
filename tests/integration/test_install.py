"""`pip install .` (not editable) gives a working assistant away from the clone.

The wheel is built from the checkout and installed into its own folder, put first on the path
of this environment's interpreter (whose third-party libraries it reuses), and run from a
directory that is not the clone: knowledge, prompts and templates must come from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_wheel_runs_from_anywhere(tmp_path: Path, runtime: Runtime) -> None:
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGUILLAGE_")}
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
         str(REPO_ROOT)],
        elsewhere,
        env,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("aiguillage-*.whl")
    installed = _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        elsewhere,
        env,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr

    env |= {"PYTHONPATH": str(site), "AIGUILLAGE_DATA_DIR": str(runtime.settings.data_dir)}
    where = _run(
        [sys.executable, "-c",
         "import assistant, aiguillage_knowledge, aiguillage_prompts, connectors.web as w;"
         "from assistant.paths import KNOWLEDGE_DIR, PROMPTS_DIR;"
         "print(assistant.__file__, KNOWLEDGE_DIR, PROMPTS_DIR, w.__file__)"],
        elsewhere,
        env,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert all(part.startswith(str(site)) for part in where.stdout.split()), where.stdout

    cli = [sys.executable, "-m", "connectors.cli.main"]
    validate = _run([*cli, "knowledge", "validate"], elsewhere, env)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "0 erreur" in validate.stdout + validate.stderr
    ask = _run([*cli, "ask", "C'est quoi le DLA ?"], elsewhere, env)
    assert ask.returncode == 0, ask.stdout + ask.stderr
    assert "DLA" in ask.stdout and "Sources" in ask.stdout
