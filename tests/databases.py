"""PostgreSQL for the integration tests: the database outlives a run, so each test empties it."""

from __future__ import annotations

from sqlalchemy import create_engine


def reset_postgres(url: str) -> None:
    """Each test starts from empty tables (the database outlives the test run)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS messages, sessions, claims")
    finally:
        engine.dispose()
