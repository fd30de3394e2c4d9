#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine with Python 3.11, then
# runs it: linters, type checks, knowledge validation, scenarios and pytest (real ChromaDB,
# SQLite, PostgreSQL, uvicorn, headless Chromium, python-telegram-bot against a fake server).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  # Headless Chromium for the browser tests (PostgreSQL is handled by .ci/postgres.sh).
  if ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[dev,postgres,llm]"

eval "$(bash .ci/postgres.sh)"
export AIGUILLAGE_TEST_POSTGRES_URL

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy assistant connectors scripts
.venv/bin/aiguillage knowledge validate
# The integration tier's index (var/test-data), built here rather than inside the first test
# that needs it, whose timeout would count a cold build (minutes on two cores); incremental.
AIGUILLAGE_DATA_DIR=var/test-data .venv/bin/aiguillage index
# The fast tier (the core on the in-package fakes, under a minute), then the integration tier
# (real ChromaDB, SQLite, PostgreSQL, uvicorn, Chromium, python-telegram-bot).
# The fast tier runs on both cores (pytest-xdist): its tests share nothing but read-only files.
.venv/bin/pytest -q -p no:cacheprovider -n 2 tests/fast "$@"
.venv/bin/pytest -q -p no:cacheprovider tests/integration "$@"
