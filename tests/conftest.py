"""Shared fixtures: the real shipped knowledge, indexed once per test run.

The index lives in var/test-data (git-ignored): the build is incremental, so after the first
run (about three minutes on two cores, to embed every passage) later runs reuse it.
Tests that need to break or rebuild an index use their own tmp_path instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.runtime import Runtime
from assistant.search.cards import load_cards
from assistant.search.index import IndexBuilder
from assistant.settings import REPO_ROOT, Settings

TEST_DATA = REPO_ROOT / "var" / "test-data"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Real knowledge and prompts; index in var/test-data; sessions in a fresh temp dir."""
    sessions = tmp_path_factory.mktemp("sessions") / "sessions.sqlite3"
    # No flood limit here: tests send many messages from 127.0.0.1 (test_rate_limit.py sets one).
    return Settings(data_dir=TEST_DATA, database_url=f"sqlite:///{sessions}", rate_limit="")


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    IndexBuilder(settings.index_dir, rt.embedder).build(load_cards(settings.cards_dir))
    yield rt
    rt.store.close()


@pytest.fixture()
def knowledge_dir() -> Path:
    return REPO_ROOT / "knowledge"
