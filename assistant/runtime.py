"""Wires settings to the parts they configure, each built once and only when first needed.

Connectors and the CLI ask a `Runtime` for what they need; nothing is created at import time.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from assistant.answers.answering import (
    Answerer,
    EntryPoints,
    RelevancePolicy,
    directory_entry_points,
)
from assistant.answers.english import Glossary, load_glossary
from assistant.answers.limits import Limits, load_limits
from assistant.answers.meaning import MeaningDeclines, load_decline_examples
from assistant.dialogue.conversation import Conversation
from assistant.dialogue.engine import Engine
from assistant.orientation.adviser import Adviser
from assistant.orientation.contacts import NextSteps, Orientation
from assistant.orientation.directory import Structure, load_directory
from assistant.orientation.reach import Reach, load_networks
from assistant.render.composer import Composer
from assistant.render.fiche import FicheBuilder
from assistant.search.base import Retriever
from assistant.search.cards import Card, load_cards
from assistant.search.embeddings import E5Embedder, Embedder, RememberingEmbedder, remembering
from assistant.sessions.base import SessionStore
from assistant.settings import Settings
from assistant.territory.index import TerritoryIndex, load_territories
from assistant.text import Respeller
from assistant.understanding.extraction import Extractor
from assistant.understanding.script import DiagnosticScript, load_script
from assistant.understanding.semantic import SemanticReader, load_descriptions, load_examples

if TYPE_CHECKING:  # the LLM modules load only in LLM mode
    from langchain_core.language_models import BaseChatModel

    from assistant.curation.corrections import ProposalStore
    from assistant.llm.chat import ChatLLM
    from assistant.llm.extraction import LLMExtractor
    from assistant.llm.guards import Grounding


class Runtime:
    """The assembled assistant for one settings object."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        chat_model: BaseChatModel | None = None,
        retriever: Retriever | None = None,
        store: SessionStore | None = None,
    ) -> None:
        """Every outer edge can be handed in (the fast tests pass the in-memory fakes);
        what is not is built from the settings, when first needed."""
        self.settings = settings or Settings()
        self._embedder = embedder
        self._retriever = retriever
        self._store = store
        self._chat_model = chat_model  # replaces the configured one (tests); LLM mode only
        # One opening of the index at a time: the first requests of a fresh process arrive
        # together, and ChromaDB's client set-up races when several threads open it at once.
        self._open_lock = threading.Lock()

    @cached_property
    def embedder(self) -> RememberingEmbedder:
        # The one remembering embedder the retriever and the answerer share (one model call
        # for a question read for a decline, then searched).
        return remembering(self._embedder or E5Embedder())

    @cached_property
    def cards(self) -> dict[str, Card]:
        return {card.id: card for card in load_cards(self.settings.cards_dir)}

    @cached_property
    def structures(self) -> dict[str, Structure]:
        return {s.id: s for s in load_directory(self.settings.structures_dir)}

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.settings.prompts_dir)

    @cached_property
    def territories(self) -> TerritoryIndex:
        return load_territories(self.settings.territories_dir / "territories.json.gz")

    @property
    def retriever(self) -> Retriever:
        """The live index; reopened when `aiguillage index` has swapped in a new generation."""
        if self._retriever is not None:
            return self._retriever
        from assistant.search.retrieval import HybridRetriever  # bm25s, ChromaDB: only here

        current: Retriever | None = self.__dict__.get("_live_retriever")
        if current is not None and current.is_current(self.settings.index_dir):
            return current
        with self._open_lock:
            current = self.__dict__.get("_live_retriever")  # opened meanwhile by another thread?
            if current is None or not current.is_current(self.settings.index_dir):
                current = HybridRetriever.open(
                    self.settings.index_dir,
                    self.embedder,
                    self.settings.rrf_k,
                    self.settings.chroma_url,
                )
                self.__dict__["_live_retriever"] = current
        return current

    @property
    def answerer(self) -> Answerer:
        policy = RelevancePolicy.from_settings(self.settings)
        if self.llm is not None:
            from assistant.llm.answering import LLMAnswerer

            return LLMAnswerer(
                self.retriever,
                self.cards,
                self.composer,
                policy,
                self.llm,
                self.grounding,
                entry_points=self.entry_points,
                spell=self.readable_question,
                limits=self.limits,
                meaning=self.meaning_declines,
            )
        return Answerer(
            self.retriever,
            self.cards,
            self.composer,
            policy,
            self.entry_points,
            spell=self.readable_question,
            limits=self.limits,
            meaning=self.meaning_declines,
        )

    @cached_property
    def limits(self) -> Limits:
        return load_limits(self.settings.knowledge_dir / "answers" / "limits.yaml")

    @cached_property
    def meaning_declines(self) -> MeaningDeclines | None:
        """Questions declined by their meaning (declines.yaml), unless switched off."""
        if not self.settings.decline_by_meaning:
            return None
        examples = load_decline_examples(self.settings.knowledge_dir / "answers" / "declines.yaml")
        cache = self.settings.index_dir / "embeddings.sqlite3"
        return MeaningDeclines(
            self.embedder, examples, cache_path=cache, spell=self.readable_question
        )

    @cached_property
    def respeller(self) -> Respeller:
        return Respeller(self.script.spellings)

    @cached_property
    def glossary(self) -> Glossary:
        return load_glossary(self.settings.knowledge_dir / "answers" / "english.yaml")

    def readable_question(self, question: str) -> str:
        """A question as the cards are searched with: SMS spellings written out, and the
        French of its terms after it when it is in English."""
        return self.glossary.gloss(self.respeller.readable(question))

    @cached_property
    def entry_points(self) -> EntryPoints:
        config = self.script.human_entry_points
        return directory_entry_points(
            self.structures.values(), config.national, config.regional_kinds
        )

    # -- optional LLM (AIGUILLAGE_LLM_PROVIDER != "none") --------------------------------
    @cached_property
    def llm(self) -> ChatLLM | None:
        """The chat model with its deadline, or None in the default deterministic mode."""
        if self.settings.llm_provider == "none":
            return None
        from assistant.llm.chat import ChatLLM, build_chat_model

        model = self._chat_model or build_chat_model(self.settings)
        return ChatLLM(model, self.settings.llm_timeout_seconds)

    @cached_property
    def grounding(self) -> Grounding:
        """What LLM output may mention besides the passages: the structure directory."""
        from assistant.llm.guards import Grounding

        return Grounding.from_directory(self.structures.values())

    @property
    def llm_extractor(self) -> LLMExtractor | None:
        if self.llm is None:
            return None
        from assistant.llm.extraction import LLMExtractor

        return LLMExtractor(self.llm, self.composer, self.script, self.territories)

    @cached_property
    def semantic(self) -> SemanticReader | None:
        """The semantic layer under the rules (examples.yaml), unless switched off."""
        if not self.settings.semantic_understanding:
            return None
        diagnostic = self.settings.knowledge_dir / "diagnostic"
        examples = load_examples(diagnostic / "examples.yaml")
        descriptions = load_descriptions(diagnostic / "descriptions.yaml")
        cache = self.settings.index_dir / "embeddings.sqlite3"
        return SemanticReader(self.embedder, examples, cache_path=cache, descriptions=descriptions)

    @cached_property
    def script(self) -> DiagnosticScript:
        return load_script(self.settings.knowledge_dir / "diagnostic" / "script.yaml")

    @cached_property
    def orientation(self) -> Orientation:
        next_steps = NextSteps.from_file(
            self.settings.knowledge_dir / "next_steps.yaml", card_ids=self.cards.keys()
        )
        structures = list(self.structures.values())
        networks = load_networks(self.settings.knowledge_dir / "networks.yaml")
        return Orientation(
            structures,
            self.cards,
            self.territories,
            self.composer,
            next_steps,
            Reach(
                networks,
                structures,
                self.composer,
                self.script.human_entry_points.national,
                self.territories,
            ),
        )

    @cached_property
    def engine(self) -> Engine:
        return Engine(
            script=self.script,
            extractor=Extractor(
                self.script,
                self.territories,
                self.semantic.refine if self.semantic else None,
                self.llm_extractor,
            ),
            orientation=self.orientation,
            answerer=lambda: self.answerer,
            composer=self.composer,
            territories=self.territories,
            describe=self.semantic.read_description if self.semantic else None,
        )

    @cached_property
    def adviser(self) -> Adviser:
        """Adviser mode: ESS traits, verdict and orientation for one description."""
        return Adviser(
            self.engine, self.cards, self.settings.knowledge_dir / "diagnostic" / "ess_traits.yaml"
        )

    @cached_property
    def store(self) -> SessionStore:
        if self._store is not None:
            return self._store
        from assistant.sessions.store import open_store  # SQLAlchemy: only here

        return open_store(self.settings)

    def reload_directory(self) -> None:
        """The directory changed on disk (an accepted correction): what was built from it is
        built again on next use. Other processes see it when they restart."""
        built = ("structures", "entry_points", "grounding", "orientation", "engine", "adviser")
        for name in (*built, "conversation"):
            self.__dict__.pop(name, None)

    @cached_property
    def proposals(self) -> ProposalStore:
        """Correction proposals, in the sessions' database (in memory beside a memory store)."""
        from assistant.sessions.proposals import MemoryProposalStore, SqlProposalStore
        from assistant.sessions.store import SqlSessionStore

        store = self.store
        if isinstance(store, SqlSessionStore):
            return SqlProposalStore(store.engine)
        return MemoryProposalStore()

    @cached_property
    def fiche_builder(self) -> FicheBuilder:
        return FicheBuilder(self.composer, self.territories)

    @cached_property
    def conversation(self) -> Conversation:
        return Conversation(
            self.engine, self.store, self.fiche_builder, self.settings.session_retention_days
        )
