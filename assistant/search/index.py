"""Building the search index: incremental, content-hashed, swapped atomically.

Layout under `index_dir`:

    CURRENT              name of the live generation (replaced atomically with os.replace)
    embeddings.sqlite3   vector cache by content hash (survives generations)
    gen-<stamp>/         one complete, immutable index generation
        chroma/          ChromaDB persistent collection (dense vectors)
        bm25/            bm25s lexical index (French stems, accents folded)
        chunks.json      the passages and their metadata (one a line)
        card_terms.json  each card's lexical terms (one card a line)
        passages.json    what a search reads at opening; the rest on demand (table.py)
        manifest.json    card id -> content hash, chunk ids, embedder name

A new generation starts as a copy of the live one; only chunks of added or changed cards are
embedded (or taken from the cache) and upserted, removed cards are deleted, then CURRENT is
swapped. Readers of the previous generation are never disturbed.

Curators' documents (assistant/documents) enter as `PassageSet`s, units like cards: their
passages are cut beforehand, and they are added, updated and removed by the same hashes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import bm25s
import chromadb
import numpy as np
from pydantic import BaseModel

from assistant.search.cards import Card
from assistant.search.chunks import Chunk, PassageSet, chunk_card
from assistant.search.embeddings import Embedder, EmbeddingCache
from assistant.search.progress import Progress
from assistant.search.table import TABLE_VERSION, write_table
from assistant.search.vectors import VectorPlace
from assistant.text import TOKENIZER_VERSION, terms

CURRENT_FILE = "CURRENT"
KEEP_GENERATIONS = 2


class Manifest(BaseModel):
    embedder: str
    tokenizer: str = ""  # assistant.text.TOKENIZER_VERSION the lexical index was built with
    table: int = 0  # table.TABLE_VERSION of passages.json (0: a generation without it)
    built_at: dt.datetime
    build_seconds: float | None = None  # how long the build took (shown on /admin)
    cards: dict[str, str]  # card id -> content hash
    chunks: dict[str, list[str]]  # card id -> chunk ids


class BuildReport(BaseModel):
    generation: str
    changed: bool
    added: list[str]
    updated: list[str]
    removed: list[str]
    chunks_total: int
    chunks_embedded: int  # computed by the model this run (not from the cache)
    seconds: float


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT_FILE
    if not pointer.exists():
        return None
    generation = index_dir / pointer.read_text(encoding="utf-8").strip()
    return generation if generation.is_dir() else None


def read_manifest(generation: Path) -> Manifest:
    return Manifest.model_validate_json((generation / "manifest.json").read_text("utf-8"))


class IndexBuilder:
    """Builds a new generation from cards, reusing the live one and the vector cache."""

    def __init__(self, index_dir: Path, embedder: Embedder, chroma_url: str | None = None) -> None:
        self.index_dir = index_dir
        self.embedder = embedder
        self.vectors = VectorPlace(chroma_url)

    def build(
        self,
        cards: Sequence[Card],
        progress: Progress | None = None,
        force: bool = False,
        documents: Sequence[PassageSet] = (),
    ) -> BuildReport:
        progress = progress or Progress()
        started = time.perf_counter()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        live = current_generation(self.index_dir)
        previous = read_manifest(live) if live else None
        if previous and previous.embedder != self.embedder.name:
            previous = None  # a different model: nothing can be reused
        if force or (previous and previous.tokenizer != TOKENIZER_VERSION):
            previous = None  # new tokenisation: rebuild (vectors still come from the cache)
        if previous and previous.table != TABLE_VERSION:
            previous = None  # an older layout (opened whole, slowly): write it anew
        if live and previous and not self.vectors.has(live):
            previous = None  # the vectors moved (to or from a server): write them all again

        hashes = {card.id: card.content_hash for card in cards}
        hashes |= {unit.id: unit.content_hash for unit in documents}
        added, removed, updated = _changes(hashes, previous)
        if live and previous and not (added or removed or updated):
            return BuildReport(
                generation=live.name,
                changed=False,
                added=[],
                updated=[],
                removed=[],
                chunks_total=sum(len(v) for v in previous.chunks.values()),
                chunks_embedded=0,
                seconds=time.perf_counter() - started,
            )

        all_chunks = {card.id: chunk_card(card) for card in cards}
        all_chunks |= {unit.id: unit.chunks for unit in documents}
        generation = self.index_dir / f"gen-{time.time_ns()}"
        staging = generation.with_name(generation.name + ".tmp")
        reused = live if live and previous else None
        collection = self.vectors.create(staging, generation.name, reused, self.embedder)
        stale_ids = (
            [cid for card in (*removed, *updated) for cid in previous.chunks[card]]
            if previous
            else []
        )
        for start in range(0, len(stale_ids), 1000):
            collection.delete(ids=stale_ids[start : start + 1000])

        to_write = [chunk for card in (*added, *updated) for chunk in all_chunks[card]]
        embedded = self._upsert(collection, to_write, progress)
        del collection

        ordered = [chunk for card in sorted(all_chunks) for chunk in all_chunks[card]]
        corpus = self._write_lexical(staging, ordered, progress)
        write_table(staging, ordered, corpus[: len(ordered)])
        manifest = Manifest(
            embedder=self.embedder.name,
            tokenizer=TOKENIZER_VERSION,
            table=TABLE_VERSION,
            built_at=dt.datetime.now(dt.UTC),
            build_seconds=round(time.perf_counter() - started, 2),
            cards=hashes,
            chunks={cid: [c.id for c in chunks] for cid, chunks in all_chunks.items()},
        )
        (staging / "manifest.json").write_text(manifest.model_dump_json(indent=1), "utf-8")
        os.replace(staging, generation)
        self._swap(generation)
        self._prune()
        return BuildReport(
            generation=generation.name,
            changed=True,
            added=added,
            updated=updated,
            removed=removed,
            chunks_total=len(ordered),
            chunks_embedded=embedded,
            seconds=time.perf_counter() - started,
        )

    def _cache_key(self, chunk: Chunk) -> str:
        side = "query" if chunk.question else "passage"
        name = self.embedder.name if side == "passage" else f"{self.embedder.name}:{side}"
        return EmbeddingCache.key(name, chunk.search_text)

    def _upsert(
        self, collection: chromadb.Collection, chunks: list[Chunk], progress: Progress
    ) -> int:
        if not chunks:
            return 0
        cache = EmbeddingCache(self.index_dir / "embeddings.sqlite3")
        try:
            keys = [self._cache_key(c) for c in chunks]
            vectors = cache.get_many(keys)
            missing = [(k, c) for k, c in zip(keys, chunks, strict=True) if k not in vectors]
            progress.start(len(missing), "Calcul des vecteurs")
            # A card's questions are embedded as queries (e5's symmetric side), passages as
            # passages: each batch holds one kind only.
            batches = [
                (asked, part[start : start + 16])
                for asked in (False, True)
                for part in [[(k, c) for k, c in missing if c.question is asked]]
                for start in range(0, len(part), 16)
            ]
            for asked, batch in batches:
                texts = [c.search_text for _, c in batch]
                embed = self.embedder.embed_queries if asked else self.embedder.embed_passages
                computed = embed(texts)
                fresh = {k: v for (k, _), v in zip(batch, computed, strict=True)}
                cache.put_many(fresh)
                vectors.update(fresh)
                progress.advance(len(batch))
            for start in range(0, len(chunks), 1000):
                part = chunks[start : start + 1000]
                part_keys = keys[start : start + 1000]
                collection.upsert(
                    ids=[c.id for c in part],
                    embeddings=np.stack([vectors[k] for k in part_keys]),
                    documents=[c.search_text for c in part],
                    metadatas=[{"card_id": c.card_id, "kind": c.kind} for c in part],
                )
            return len(missing)
        finally:
            cache.close()

    def _write_lexical(
        self, staging: Path, chunks: list[Chunk], progress: Progress
    ) -> list[list[str]]:
        """The bm25s index, saved; returns each passage's terms (the table's card terms)."""
        progress.start(1, "Index lexical")
        retriever = bm25s.BM25()
        # bm25s cannot index nothing: an empty corpus gets one inert placeholder document,
        # which the retriever never returns (it has no chunk).
        corpus = [terms(c.search_text) or ["_"] for c in chunks] or [["_"]]
        retriever.index(corpus, show_progress=False)
        retriever.save(str(staging / "bm25"))
        progress.advance(1)
        return corpus

    def _swap(self, generation: Path) -> None:
        tmp = self.index_dir / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
        tmp.write_text(generation.name, encoding="utf-8")
        os.replace(tmp, self.index_dir / CURRENT_FILE)

    def _prune(self) -> None:
        generations = sorted(
            (p for p in self.index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name
        )
        live = current_generation(self.index_dir)
        for old in generations[:-KEEP_GENERATIONS]:
            if old != live:
                self.vectors.drop(old)
                shutil.rmtree(old, ignore_errors=True)
        # A staging folder is left behind only by a build that crashed; one younger than an
        # hour may belong to a build running right now in another process.
        stale = time.time() - 3600
        for leftover in self.index_dir.glob("gen-*.tmp"):
            if leftover.stat().st_mtime < stale:
                shutil.rmtree(leftover, ignore_errors=True)


def _changes(
    hashes: dict[str, str], previous: Manifest | None
) -> tuple[list[str], list[str], list[str]]:
    """Card ids (added, removed, updated) since the previous generation, by content hash."""
    old = previous.cards if previous else {}
    added = sorted(set(hashes) - set(old))
    removed = sorted(set(old) - set(hashes))
    updated = sorted(c for c in set(hashes) & set(old) if hashes[c] != old[c])
    return added, removed, updated
