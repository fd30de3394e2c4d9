"""A generation's passages as a search reads them: a small table in memory, the passages
themselves parsed only when a hit shows them.

At 10^5 passages, parsing every passage (and every card's term set) when the index opened took
most of the opening's seconds, though a query shows five. So the builder writes, besides the
plain JSON files, `passages.json`: per passage its id, card, kind flags and *scope* (the
metadata a `SearchFilter` reads, shared by all the passages of a card), the card-level term
statistics the ranking needs, and the byte spans of each passage in `chunks.json` and of each
card's terms in `card_terms.json`. Those two files stay plain JSON (one entry per line), so
older readers and tools still load them whole.

A generation built before `passages.json` existed is read whole, as before.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter

from assistant.search.chunks import Chunk

__all__ = ["CARD_TERMS_FILE", "CHUNKS_FILE", "TABLE_FILE", "PassageTable", "Scope", "write_table"]

CHUNKS_FILE = "chunks.json"
CARD_TERMS_FILE = "card_terms.json"
TABLE_FILE = "passages.json"
TABLE_VERSION = 1
_PARSED_KEPT = 4096  # parsed passages remembered (the shipped corpus fits whole)

_CHUNKS = TypeAdapter(list[Chunk])
_CARD_TERMS = TypeAdapter(dict[str, list[str]])
_TERMS = TypeAdapter(list[str])


class Scope(NamedTuple):
    """What a `SearchFilter` reads of a passage (the same for all the passages of a card)."""

    kind: str
    stages: tuple[str, ...]
    national: bool
    regions: tuple[str, ...]
    departements: tuple[str, ...]

    @classmethod
    def of(cls, chunk: Chunk) -> Scope:
        return cls(
            chunk.kind,
            tuple(chunk.stages),
            chunk.national,
            tuple(chunk.regions),
            tuple(chunk.departements),
        )


def _spans(lines: Sequence[bytes], start: int) -> list[list[int]]:
    """[start, end) byte offsets of each line, joined by ",\\n" after `start` bytes."""
    spans: list[list[int]] = []
    for line in lines:
        spans.append([start, start + len(line)])
        start += len(line) + 2
    return spans


def write_table(
    staging: Path, chunks: Sequence[Chunk], chunk_terms: Sequence[Sequence[str]]
) -> None:
    """Write chunks.json, card_terms.json and passages.json for `chunks` (in index order,
    `chunk_terms` the lexical terms of each)."""
    # One passage a line, so that each one's bytes can be read alone.
    lines = [c.model_dump_json().encode() for c in chunks]
    (staging / CHUNKS_FILE).write_bytes(b"[\n" + b",\n".join(lines) + b"\n]\n")

    card_terms: dict[str, set[str]] = {}
    for chunk, found in zip(chunks, chunk_terms, strict=True):
        card_terms.setdefault(chunk.card_id, set()).update(found)
    cards = list(card_terms)
    # One card a line: `"card": [terms]`; the span covers the list alone.
    keys = [json.dumps(card, ensure_ascii=False).encode() + b": " for card in cards]
    values = [json.dumps(sorted(card_terms[c]), ensure_ascii=False).encode() for c in cards]
    entries = [k + v for k, v in zip(keys, values, strict=True)]
    terms_body = b"{\n" + b",\n".join(entries) + b"\n}\n"
    term_spans = [
        [start + len(key), end] for (start, end), key in zip(_spans(entries, 2), keys, strict=True)
    ]
    (staging / CARD_TERMS_FILE).write_bytes(terms_body)

    card_index = {card: i for i, card in enumerate(cards)}
    scopes: dict[Scope, int] = {}
    scope_of = [scopes.setdefault(Scope.of(c), len(scopes)) for c in chunks]
    table: dict[str, Any] = {
        "version": TABLE_VERSION,
        "ids": [c.id for c in chunks],
        "card_of": [card_index[c.card_id] for c in chunks],
        "question": [int(c.question) for c in chunks],
        "document": [int(c.origin is not None) for c in chunks],
        "scope_of": scope_of,
        "scopes": [list(s) for s in scopes],
        "chunk_spans": _spans(lines, 2),
        "cards": cards,
        "card_term_spans": term_spans,
        # In how many cards each term occurs: the inverse document frequency, without
        # reading every card's terms when the index opens.
        "document_frequency": Counter(chain.from_iterable(card_terms.values())),
    }
    (staging / TABLE_FILE).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")


class _File:
    """Byte ranges of a read-only file, by positional reads (safe from several threads; the
    descriptor keeps a pruned generation's file readable until the retriever goes)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, start: int, end: int) -> bytes:
        return os.pread(self._fd, end - start, start)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


class PassageTable:
    """Everything a search needs of a generation's passages. Positions are index order (the
    bm25s document numbers); `chunk(i)` parses a passage on first use."""

    ids: list[str]
    cards: list[str]
    card_of: NDArray[np.int64]
    question: NDArray[np.bool_]
    document: NDArray[np.bool_]
    scope_of: NDArray[np.int64]
    scopes: list[Scope]
    document_frequency: dict[str, int]

    def __init__(self, generation: Path) -> None:
        self._parsed: dict[int, Chunk] = {}
        self._card_terms: dict[int, frozenset[str]] = {}
        self._chunks_file: _File | None = None
        self._terms_file: _File | None = None
        table_path = generation / TABLE_FILE
        if table_path.exists():
            self._open_table(generation, json.loads(table_path.read_bytes()))
        else:
            self._read_whole(generation)
        self.position = {ident: i for i, ident in enumerate(self.ids)}
        self.card_position = {card: i for i, card in enumerate(self.cards)}
        # A card is shown by its first passage when one of its questions is what matched.
        first: dict[int, int] = {}
        for position in np.flatnonzero(~self.question).tolist():
            first.setdefault(int(self.card_of[position]), position)
        self.first_passage = first

    def _open_table(self, generation: Path, table: dict[str, Any]) -> None:
        self.ids = table["ids"]
        self.cards = table["cards"]
        self.card_of = np.asarray(table["card_of"], dtype=np.int64)
        self.question = np.asarray(table["question"], dtype=bool)
        self.document = np.asarray(table["document"], dtype=bool)
        self.scope_of = np.asarray(table["scope_of"], dtype=np.int64)
        self.scopes = [
            Scope(kind, tuple(stages), national, tuple(regions), tuple(departements))
            for kind, stages, national, regions, departements in table["scopes"]
        ]
        self.document_frequency = table["document_frequency"]
        self._chunk_spans: list[list[int]] = table["chunk_spans"]
        self._term_spans: list[list[int]] = table["card_term_spans"]
        self._chunks_file = _File(generation / CHUNKS_FILE)
        self._terms_file = _File(generation / CARD_TERMS_FILE)

    def _read_whole(self, generation: Path) -> None:
        """A generation from before the table: parse everything now (as every opening did)."""
        from assistant.text import terms  # the stemmer: only for such an old generation

        chunks = _CHUNKS.validate_json((generation / CHUNKS_FILE).read_bytes())
        self._parsed = dict(enumerate(chunks))
        self.ids = [c.id for c in chunks]
        self.cards = list(dict.fromkeys(c.card_id for c in chunks))
        index = {card: i for i, card in enumerate(self.cards)}
        self.card_of = np.asarray([index[c.card_id] for c in chunks], dtype=np.int64)
        self.question = np.asarray([c.question for c in chunks], dtype=bool)
        self.document = np.asarray([c.origin is not None for c in chunks], dtype=bool)
        scopes: dict[Scope, int] = {}
        self.scope_of = np.asarray(
            [scopes.setdefault(Scope.of(c), len(scopes)) for c in chunks], dtype=np.int64
        )
        self.scopes = list(scopes)
        stored = generation / CARD_TERMS_FILE
        card_terms: dict[str, set[str]] = {}
        if stored.exists():
            raw = _CARD_TERMS.validate_json(stored.read_bytes())
            card_terms = {card: set(found) for card, found in raw.items()}
        else:  # older still: tokenise now
            for chunk in chunks:
                card_terms.setdefault(chunk.card_id, set()).update(terms(chunk.search_text))
        self._card_terms = {
            index[card]: frozenset(found) for card, found in card_terms.items() if card in index
        }
        self.document_frequency = dict(Counter(chain.from_iterable(card_terms.values())))

    def __len__(self) -> int:
        return len(self.ids)

    def chunk(self, position: int) -> Chunk:
        found = self._parsed.get(position)
        if found is not None:
            return found
        assert self._chunks_file is not None  # a whole-read generation has every passage parsed
        start, end = self._chunk_spans[position]
        chunk = Chunk.model_validate_json(self._chunks_file.read(start, end))
        if len(self._parsed) >= _PARSED_KEPT:
            self._parsed.clear()
        self._parsed[position] = chunk
        return chunk

    def chunks(self) -> Iterator[Chunk]:
        return (self.chunk(i) for i in range(len(self)))

    def card_terms(self, card: int) -> frozenset[str]:
        """The lexical terms of all of a card's passages."""
        found = self._card_terms.get(card)
        if found is not None:
            return found
        assert self._terms_file is not None
        start, end = self._term_spans[card]
        found = frozenset(_TERMS.validate_json(self._terms_file.read(start, end)))
        if len(self._card_terms) >= _PARSED_KEPT:
            self._card_terms.clear()
        self._card_terms[card] = found
        return found
