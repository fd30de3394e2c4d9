"""The development set written from the outside (tests/devsets/) stays valid: vocabulary,
territory codes, [dla] only where the labelling rules allow it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VALIDATE = Path(__file__).resolve().parents[1] / "devsets" / "validate.py"


def test_the_development_set_is_valid() -> None:
    run = subprocess.run(
        [sys.executable, str(VALIDATE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
