"""One settings object, read from the environment (`AIGUILLAGE_*`) and nothing else."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assistant.paths import KNOWLEDGE_DIR, PROMPTS_DIR, REPO_ROOT, default_data_dir

__all__ = ["REPO_ROOT", "Settings"]

# A site that may frame the embed, as CSP frame-ancestors writes it: scheme, host (its first
# label may be "*"), optional port; no path.
_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$")


class Settings(BaseSettings):
    """Every knob of Aiguillage. Paths default to the repository's own data."""

    model_config = SettingsConfigDict(env_prefix="AIGUILLAGE_", extra="ignore")

    # Data written by curators (read-only at run time).
    knowledge_dir: Path = KNOWLEDGE_DIR
    prompts_dir: Path = PROMPTS_DIR
    # Data written by the program: the index, the session database (per-user by default).
    data_dir: Path = Field(default_factory=default_data_dir)
    # The full texts of the source documents, where present: `knowledge validate` then also
    # checks that every cited document exists (their metadata live in knowledge/sources.yaml).
    sources_dir: Path | None = None

    # Retrieval.
    retrieval_top_k: int = Field(default=5, ge=1, le=50)
    retrieval_candidates: int = Field(default=40, ge=5, le=500)
    rrf_k: int = Field(default=60, ge=1)
    # A Chroma server for the vectors (e.g. "http://127.0.0.1:8001", from `chroma run`), shared
    # by every replica; unset: ChromaDB embedded in the index folder (one process).
    chroma_url: str | None = None
    # When to answer rather than decline (see RelevancePolicy; calibrated by evaluate.py):
    # a very similar passage is enough, a fairly similar one must also share the question's terms.
    strong_dense_similarity: float = 0.88
    min_dense_similarity: float = 0.85
    # 0.40 until session 15; limits.yaml and the decline-by-meaning classifier now catch what
    # must be declined, and 0.20 lets long questions with context through (tuning: 437 → 438
    # of 475 and questions12 85 → 88 of 120 right, declines unchanged)
    min_term_coverage: float = 0.20
    # …or the question is phrased like one of the card's `questions`.
    min_question_similarity: float = 0.90
    # A question in English shares no terms with the French cards: meaning alone decides, from
    # this similarity (14 English questions of the tuning sets dev2, dev3, dev5).
    english_min_dense_similarity: float = 0.84
    stale_after_days: int = Field(default=730, ge=1)
    # Questions the limits' patterns miss are declined when they read, by meaning, like those
    # of knowledge/answers/declines.yaml (assistant/answers/meaning.py).
    decline_by_meaning: bool = True

    # Diagnostic: the semantic layer (examples.yaml) under the rules.
    semantic_understanding: bool = True

    # Sessions (SQLAlchemy URL; default: SQLite file in data_dir).
    database_url: str | None = None
    session_retention_days: int = Field(default=90, ge=1)

    # Web.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_message_chars: int = Field(default=2000, ge=10)
    # Messages per client (IP for HTTP, chat for Telegram), e.g. "20/minute;300/hour";
    # empty: no limit (tests, benchmarks). Answered with 429 and Retry-After.
    rate_limit: str = Field(
        default="20/minute;300/hour",
        pattern=r"^$|^\s*\d+\s*/\s*\d*\s*(second|minute|hour|day)s?\s*(;\s*\d+\s*/\s*\d*\s*(second|minute|hour|day)s?\s*)*$",
    )
    # The accompaniers' "mode test" page (/test) shows a session's whole state. Unset: on only
    # when serving on a loopback address (a workstation); a public server that wants it sets
    # AIGUILLAGE_TEST_MODE=true and AIGUILLAGE_TEST_TOKEN (given once as /test?jeton=…).
    test_mode: bool | None = None
    test_token: SecretStr | None = None
    # The partners' sites allowed to frame the chat (/embed, pasted with /embed.js), e.g.
    # "https://www.cress-na.org, https://*.exemple.fr" (commas or spaces); empty: any site.
    # Applied as CSP frame-ancestors on /embed only: every other page refuses to be framed.
    embed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("embed_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> list[str]:
        items = re.split(r"[\s,]+", value) if isinstance(value, str) else value or []
        if not isinstance(items, list | tuple):
            raise ValueError("une liste d'origines est attendue")
        origins = [str(item).strip().rstrip("/").lower() for item in items if str(item).strip()]
        wrong = [o for o in origins if not _ORIGIN.match(o)]
        if wrong:
            raise ValueError(f"origines invalides (https://hôte[:port] attendu) : {wrong}")
        return origins

    @property
    def serves_locally(self) -> bool:
        return self.host in {"127.0.0.1", "localhost", "::1"} or self.host.startswith("127.")

    @property
    def test_mode_on(self) -> bool:
        return self.serves_locally if self.test_mode is None else self.test_mode

    # Telegram.
    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_secret: SecretStr | None = None

    # Optional LLM.
    llm_provider: Literal["none", "openai-compatible", "ollama"] = "none"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=20.0, gt=0)
    llm_max_tokens: int = Field(default=800, ge=16)

    @property
    def cards_dir(self) -> Path:
        return self.knowledge_dir / "cards"

    @property
    def structures_dir(self) -> Path:
        return self.knowledge_dir / "structures"

    @property
    def territories_dir(self) -> Path:
        return self.knowledge_dir / "territories"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def sessions_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sessions.sqlite3'}"

    # Curation. The curators' page (/admin) is off unless a token is set; it is then given as
    # `Authorization: Bearer …` (scripts) or once through the page's login form (a cookie).
    admin_token: SecretStr | None = None
    # Correction proposals sent through the chat's contact cards, per client address.
    correction_rate_limit: str = Field(
        default="5/hour;20/day",
        pattern=r"^$|^\s*\d+\s*/\s*\d*\s*(second|minute|hour|day)s?\s*(;\s*\d+\s*/\s*\d*\s*(second|minute|hour|day)s?\s*)*$",
    )

    # Documents (`aiguillage knowledge add`, knowledge/documents/): larger files are refused
    # before being read.
    max_document_mb: float = Field(default=20.0, gt=0)

    @property
    def documents_dir(self) -> Path:
        return self.knowledge_dir / "documents"
