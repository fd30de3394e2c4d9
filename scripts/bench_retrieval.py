"""Benchmark retrieval and indexing: ``ask`` latency, index builds, grown corpora, re-indexing.

Usage:
    python scripts/bench_retrieval.py [--quick] [--smoke] [--json]

Prints figures only; nothing here asserts a time. Every figure comes with a baseline measured in
the same run, on the same machine, so a figure is read as a ratio, not as an absolute:

(b) index build of the shipped corpus, cold (fresh directory, empty embedding cache: every
    passage embedded by the model, passages/s printed) and warm (fresh directory, cache filled);
(a) latency p50/p95 over the question set (tests/eval/questions.yaml, in-scope and out-of-scope,
    warm, after one warm-up call) of ``ask`` (Answerer.answer), of the hybrid search, with the
    bare query embedding and the bare BM25 lookup as baselines;
(c) corpora grown 10x and 100x with synthetic cards made from the real ones (new ids, shuffled
    paragraphs of several cards, varied stage and territory metadata). Embedding them for real
    would take hours on two cores, so the embedding cache is seeded with vectors derived from
    the real passages' vectors (a normalised mix of two plus noise): the build then measures the
    index machinery alone (chunking, ChromaDB upsert, bm25s, manifest, swap). The model's
    throughput is measured on a sample of synthetic passages, and the full cold build time is
    *projected* as machinery + passages / throughput. Search and ``ask`` latency on the grown
    indexes;
(d) incremental re-index after one changed card vs a full rebuild (force=True), on the shipped
    corpus and on the 10x corpus;
(e) 10^5 passages (synthetic cards, vectors derived as in (c); --passages N to change it):
    ``HybridRetriever.open`` time, then per question p50/p95 of the hybrid search (without and
    with a territory filter) against the raw calls it makes on the same index, as baselines:
    ChromaDB's query with the vector given, bm25s's retrieve with the terms given, and e5's
    query embedding. ``--scale-only`` runs (e) alone (the shipped corpus's vectors then come
    from the test index's cache, var/test-data, copied; about 5 minutes).

Everything is written to a temporary directory; the repository's var/ is never touched.
``--quick`` skips the 100x corpus (about 3 minutes instead of about 6 on an idle two-core
machine); ``--smoke`` runs a tiny subset (5 cards, 10 questions, 10x only) to prove the script
works; ``--json`` prints the figures as one JSON document on stdout (progress goes to stderr).
Each latency pass stops after a time budget (150 s, 45 s with --quick) so that a loaded machine
cannot stretch the run without bound: the printed n says how many questions were timed. The load
average is printed with every section: figures taken under load only compare within a section.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import yaml
from benchlib import load, stats  # scripts/ is on sys.path when run

from assistant.answers.answering import Answerer, RelevancePolicy
from assistant.render.composer import Composer
from assistant.search.base import SearchFilter
from assistant.search.cards import Card, load_cards
from assistant.search.chunks import chunk_card
from assistant.search.embeddings import E5Embedder, Embedder, EmbeddingCache, Vector
from assistant.search.index import BuildReport, IndexBuilder, current_generation
from assistant.search.retrieval import HybridRetriever
from assistant.search.vectors import VectorPlace
from assistant.settings import REPO_ROOT, Settings
from assistant.text import terms
from assistant.vocabulary import STAGES

QUESTIONS_FILE = REPO_ROOT / "tests" / "eval" / "questions.yaml"
# The test suite's index: its vector cache saves the shipped corpus's model run in --scale-only.
TEST_CACHE = REPO_ROOT / "var" / "test-data" / "index" / "embeddings.sqlite3"
SCALE_PASSAGES = 100_000  # section (e): the size issue 12 names
SCALE_CANDIDATES = 40  # the retriever's default candidates per retriever
SCALE_FILTER = ("23", "75")  # (departement, region) of the territory-filtered search: Creuse
CACHE_FILE = "embeddings.sqlite3"
EMBED_BATCH = 16  # the builder's batch size
SEED_NOISE = 0.02  # per-dimension standard deviation of the noise added to seeded vectors
# (region, departement) pairs used to vary synthetic cards' territory, besides the real ones.
TERRITORIES: tuple[tuple[str, str], ...] = (
    ("75", "23"),
    ("84", "69"),
    ("11", "93"),
    ("53", "35"),
    ("93", "13"),
    ("94", "2A"),
    ("76", "34"),
    ("44", "67"),
    ("32", "59"),
    ("01", "971"),
    ("04", "974"),
    ("06", "976"),
)
LATENCY_OPS: tuple[tuple[str, str], ...] = (
    ("embed_query", "embed_query (baseline: bare dense query embedding)"),
    ("bm25", "bm25 (baseline: bare lexical lookup, tokenise + bm25s)"),
    ("dense_search", "dense search (embed_query + ChromaDB query)"),
    ("hybrid_search", "hybrid search (HybridRetriever.search, k=5)"),
    ("ask", "ask (Answerer.answer)"),
)


# -- output -------------------------------------------------------------------------------------
class Out:
    """Human lines on stdout, or on stderr when the figures are printed as JSON."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.started = time.perf_counter()

    def __call__(self, text: str = "") -> None:
        print(text, file=sys.stderr if self.as_json else sys.stdout, flush=True)

    def section(self, title: str) -> None:
        elapsed = time.perf_counter() - self.started
        self(f"\n== {title} ==  [t+{elapsed:.0f} s, {load()}]")


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


# -- data -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Questions:
    in_scope: list[str]
    out_of_scope: list[str]

    @property
    def all(self) -> list[str]:
        return [*self.in_scope, *self.out_of_scope]


def load_questions(path: Path, limit: int | None) -> Questions:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping with questions and out_of_scope")
    in_scope = [str(item["question"]) for item in data.get("questions", [])]
    out = [str(item["question"]) for item in data.get("out_of_scope", [])]
    if limit is not None:
        n_out = max(1, limit * len(out) // max(1, len(in_scope) + len(out)))
        in_scope, out = in_scope[: limit - n_out], out[:n_out]
    return Questions(in_scope, out)


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


@dataclass
class Synthetic:
    cards: list[Card] = field(default_factory=list)
    donors: dict[str, list[str]] = field(default_factory=dict)  # synthetic id -> real ids


def synthetic_cards(real: Sequence[Card], count: int, seed: int) -> Synthetic:
    """`count` new cards, each made of the shuffled paragraphs of 2 to 4 real cards, about as
    long as the real card it is modelled on, with its own id and varied stage and territory."""
    rng = random.Random(seed)
    places = sorted(
        {(r, d) for c in real for r in c.territory.regions for d in c.territory.departements}
        | set(TERRITORIES)
    )
    out = Synthetic()
    for n in range(count):
        base = rng.choice(real)
        donors = [base, *rng.sample(list(real), k=min(len(real), rng.randint(1, 3)))]
        pool = [p for donor in donors for p in paragraphs(donor.body)]
        rng.shuffle(pool)
        target = max(30, len(base.body.split()))
        body: list[str] = []
        words = 0
        for paragraph in pool:
            if words >= target:
                break
            body.append(paragraph)
            words += len(paragraph.split())
        keywords = sorted({k for donor in donors for k in donor.keywords})
        roll = rng.random()
        region, departement = rng.choice(places)
        if roll < 0.5:
            territory: dict[str, Any] = {"national": True}
        elif roll < 0.75:
            territory = {"national": False, "regions": [region], "departements": []}
        else:
            territory = {"national": False, "regions": [region], "departements": [departement]}
        data = base.model_dump(exclude={"path"})
        data.update(
            id=f"synth-{n:05d}",
            title=f"{base.title} (variante {n})",
            body="\n\n".join(body) or base.title,
            keywords=rng.sample(keywords, k=min(len(keywords), rng.randint(2, 6))),
            stages=sorted(rng.sample(list(STAGES), k=rng.randint(0, len(STAGES)))),
            territory=territory,
            related=[],
        )
        card = Card.model_validate(data)
        out.cards.append(card)
        out.donors[card.id] = [d.id for d in donors]
    return out


def card_vectors(
    cache_path: Path, embedder: Embedder, cards: Sequence[Card]
) -> dict[str, list[Vector]]:
    """The cached vectors of each card's passages (read only)."""
    cache = EmbeddingCache(cache_path)
    try:
        result: dict[str, list[Vector]] = {}
        for card in cards:
            keys = [EmbeddingCache.key(embedder.name, c.search_text) for c in chunk_card(card)]
            found = cache.get_many(keys)
            result[card.id] = [found[k] for k in keys if k in found]
        return result
    finally:
        cache.close()


def seed_cache(
    cache_path: Path,
    embedder: Embedder,
    synthetic: Synthetic,
    real_vectors: dict[str, list[Vector]],
    seed: int,
) -> int:
    """Fill the cache with a vector per synthetic passage: a normalised random mix of two real
    passage vectors of the card's donors, plus noise. Returns the number of vectors written."""
    rng = np.random.default_rng(seed)
    cache = EmbeddingCache(cache_path)
    written = 0
    try:
        batch: dict[str, Vector] = {}
        for card in synthetic.cards:
            donors = [v for d in synthetic.donors[card.id] for v in real_vectors.get(d, [])]
            if not donors:
                continue
            for chunk in chunk_card(card):
                first, second = rng.integers(0, len(donors), size=2)
                share = float(rng.uniform(0.3, 0.7))
                mixed = share * donors[first] + (1.0 - share) * donors[second]
                mixed = mixed + rng.normal(0.0, SEED_NOISE, size=mixed.shape)
                vector = (mixed / np.linalg.norm(mixed)).astype(np.float32)
                batch[EmbeddingCache.key(embedder.name, chunk.search_text)] = vector
                if len(batch) >= 5000:
                    cache.put_many(batch)
                    written += len(batch)
                    batch = {}
        cache.put_many(batch)
        written += len(batch)
    finally:
        cache.close()
    return written


def changed(card: Card, variant: int) -> Card:
    """The same card with one more paragraph: a new content hash, one new passage to embed."""
    extra = f"Précision ajoutée par le banc d'essai, version {variant} de la fiche."
    return card.model_copy(update={"body": f"{card.body}\n\n{extra}"})


# -- measurements -------------------------------------------------------------------------------
def build(
    index_dir: Path, embedder: Embedder, cards: Sequence[Card], force: bool = False
) -> BuildReport:
    return IndexBuilder(index_dir, embedder).build(cards, force=force)


def fresh(retriever: HybridRetriever, question: str) -> str:
    """`question`, its vector forgotten by the retriever's embedder: it keeps the last one (a
    turn may search twice), and each timed operation here must embed its question as a turn does."""
    retriever.embedder.forget()
    return question


def timed_rounds(
    ops: dict[str, Callable[[str], object]],
    questions: Iterable[str],
    warm: str,
    budget_s: float,
) -> dict[str, list[float]]:
    """Each op timed on each question in turn (after one warm-up call), until the budget ends."""
    for op in ops.values():
        op(warm)
    samples: dict[str, list[float]] = {name: [] for name in ops}
    deadline = time.perf_counter() + budget_s
    for question in questions:
        if time.perf_counter() > deadline:
            break
        for name, op in ops.items():
            started = time.perf_counter()
            op(question)
            samples[name].append(time.perf_counter() - started)
    return samples


def latency_suite(
    retriever: HybridRetriever,
    answerer: Answerer,
    embedder: Embedder,
    questions: Questions,
    budget_s: float,
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """Per-operation latency over every question (operations interleaved per question, so a
    slow patch of the machine hits the baselines and ``ask`` alike), after one warm-up call.

    On a loaded machine the pass stops after `budget_s` seconds, with in-scope and out-of-scope
    questions interleaved so a partial pass still covers both; `n` then says how many ran."""
    candidates = 40
    answers: dict[str, bool] = {}  # question -> declined, noted during the timed pass

    def ask(question: str) -> None:
        answers[question] = answerer.answer(fresh(retriever, question)).declined

    ops: dict[str, Callable[[str], object]] = {
        "embed_query": embedder.embed_query,
        "bm25": lambda q: retriever.lexical(q, candidates),
        "dense_search": lambda q: retriever.dense(fresh(retriever, q), candidates),
        "hybrid_search": lambda q: retriever.search(
            fresh(retriever, q), k=5, candidates=candidates
        ),
        "ask": ask,
    }
    samples = timed_rounds(ops, interleaved(questions), questions.all[0], budget_s)
    declined = {
        "in_scope_declined": sum(answers[q] for q in questions.in_scope if q in answers),
        "in_scope": sum(q in answers for q in questions.in_scope),
        "out_of_scope_declined": sum(answers[q] for q in questions.out_of_scope if q in answers),
        "out_of_scope": sum(q in answers for q in questions.out_of_scope),
        "total": len(questions.all),
    }
    return {name: stats(values) for name, values in samples.items()}, declined


def interleaved(questions: Questions) -> list[str]:
    """Every question, out-of-scope ones spread evenly among the in-scope ones."""
    step = max(1, len(questions.in_scope) // max(1, len(questions.out_of_scope)))
    order: list[str] = []
    rest = list(questions.out_of_scope)
    for n, question in enumerate(questions.in_scope):
        order.append(question)
        if rest and n % step == step - 1:
            order.append(rest.pop(0))
    return order + rest


def print_latency(out: Out, figures: dict[str, dict[str, float]], declined: dict[str, int]) -> None:
    n = figures["ask"]["n"]
    cut = "" if n == declined["total"] else f" of {declined['total']} (time budget reached)"
    out(f"  {n} questions timed{cut}")
    out(f"  {'operation':<58} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for key, label in LATENCY_OPS:
        f = figures[key]
        out(f"  {label:<58} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} {f['mean_ms']:8.2f}")
    ask, emb = figures["ask"], figures["embed_query"]
    out(
        f"  ask / embed_query: p50 x{ratio(ask['p50_ms'], emb['p50_ms']):.2f}, "
        f"p95 x{ratio(ask['p95_ms'], emb['p95_ms']):.2f}; "
        f"ask - (embed_query + bm25) p50: "
        f"{ask['p50_ms'] - emb['p50_ms'] - figures['bm25']['p50_ms']:.2f} ms"
    )
    out(
        f"  answers declined: in scope {declined['in_scope_declined']}/{declined['in_scope']}, "
        f"out of scope {declined['out_of_scope_declined']}/{declined['out_of_scope']}"
    )


def open_answerer(
    index_dir: Path, embedder: Embedder, cards: Sequence[Card], settings: Settings
) -> tuple[HybridRetriever, Answerer, float]:
    started = time.perf_counter()
    retriever = HybridRetriever.open(index_dir, embedder, settings.rrf_k)
    opened = time.perf_counter() - started
    answerer = Answerer(
        retriever,
        {c.id: c for c in cards},
        Composer(settings.prompts_dir),
        RelevancePolicy.from_settings(settings),
    )
    return retriever, answerer, opened


def embedding_throughput(embedder: Embedder, texts: Sequence[str]) -> tuple[float, float]:
    """(seconds, passages/s) to embed `texts` with the model, in the builder's batches."""
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        embedder.embed_passages(list(texts[start : start + EMBED_BATCH]))
    seconds = time.perf_counter() - started
    return seconds, ratio(len(texts), seconds)


def reindex_one_card(
    out: Out, index_dir: Path, embedder: Embedder, cards: list[Card], label: str
) -> dict[str, Any]:
    """Change one real card, re-index incrementally; change it again, rebuild with force=True.
    Both runs embed the changed card's new passage(s) for real; the rest comes from the cache."""
    sizes = {c.id: len(chunk_card(c)) for c in cards if not c.id.startswith("synth-")}
    target = next((i for i, n in sizes.items() if n == 2), next(iter(sizes)))
    position = next(i for i, c in enumerate(cards) if c.id == target)
    first = list(cards)
    first[position] = changed(cards[position], 1)
    incremental = build(index_dir, embedder, first)
    second = list(cards)
    second[position] = changed(cards[position], 2)
    full = build(index_dir, embedder, second, force=True)
    result = {
        "card": target,
        "chunks_total": full.chunks_total,
        "incremental_s": incremental.seconds,
        "incremental_embedded": incremental.chunks_embedded,
        "full_s": full.seconds,
        "full_embedded": full.chunks_embedded,
        "full_over_incremental": ratio(full.seconds, incremental.seconds),
    }
    out(
        f"  {label}: one changed card ({target}), {full.chunks_total} passages\n"
        f"    incremental re-index        {incremental.seconds:8.2f} s "
        f"({incremental.chunks_embedded} passage(s) embedded)\n"
        f"    full rebuild (force=True)   {full.seconds:8.2f} s "
        f"({full.chunks_embedded} passage(s) embedded, rest from the cache)\n"
        f"    full / incremental          x{result['full_over_incremental']:.2f}"
    )
    return result


# -- (e) 10^5 passages -------------------------------------------------------------------------
def grown_to(cards: Sequence[Card], passages: int, seed: int) -> Synthetic:
    """Synthetic cards (see `synthetic_cards`) until real + synthetic hold `passages` passages.

    The same seed gives the same first cards whatever the count, so a short draw is redrawn
    larger and cut where the count is reached."""
    have = sum(len(chunk_card(c)) for c in cards)
    per_card = max(1.0, have / max(1, len(cards)))
    count = int(max(0, passages - have) / per_card * 1.1) + 1
    while True:
        drawn = synthetic_cards(cards, count, seed)
        kept = Synthetic()
        for card in drawn.cards:
            if have >= passages:
                return kept
            kept.cards.append(card)
            kept.donors[card.id] = drawn.donors[card.id]
            have += len(chunk_card(card))
        if have >= passages:
            return kept
        have -= sum(len(chunk_card(c)) for c in kept.cards)
        count *= 2


def scale_suite(
    retriever: HybridRetriever,
    generation: Path,
    embedder: Embedder,
    questions: Sequence[str],
    budget_s: float,
) -> dict[str, dict[str, float]]:
    """Per-question latency of the retriever's search against the raw library calls it makes,
    on the same index: ChromaDB's query with the query vector already computed and bm25s's
    retrieve with the terms already computed (a second handle on the same files)."""
    collection = VectorPlace(None).open(generation, embedder)
    bm25 = bm25s.BM25.load(str(generation / "bm25"))
    departement, region = SCALE_FILTER
    territory = SearchFilter(departement=departement, region=region)
    vectors = {q: embedder.embed_query(q) for q in questions}
    tokens = {q: terms(q) or ["_"] for q in questions}

    def raw_chroma(q: str) -> object:
        return collection.query(
            query_embeddings=vectors[q].reshape(1, -1),
            n_results=SCALE_CANDIDATES,
            include=["distances"],
        )

    def raw_bm25(q: str) -> object:
        return bm25.retrieve([tokens[q]], k=SCALE_CANDIDATES, show_progress=False, n_threads=0)

    ops: dict[str, Callable[[str], object]] = {
        "embed_query": embedder.embed_query,
        "raw_chroma": raw_chroma,
        "raw_bm25": raw_bm25,
        "hybrid_search": lambda q: retriever.search(
            fresh(retriever, q), k=5, candidates=SCALE_CANDIDATES
        ),
        "hybrid_filtered": lambda q: retriever.search(
            fresh(retriever, q), k=5, search_filter=territory, candidates=SCALE_CANDIDATES
        ),
    }
    samples = timed_rounds(ops, questions, questions[0], budget_s)
    return {name: stats(values) for name, values in samples.items()}


SCALE_OPS: tuple[tuple[str, str], ...] = (
    ("embed_query", "embed_query (bare e5 query embedding)"),
    ("raw_chroma", "raw ChromaDB query (vector given, k=40) (baseline)"),
    ("raw_bm25", "raw bm25s retrieve (terms given, k=40) (baseline)"),
    ("hybrid_search", "hybrid search (HybridRetriever.search, no filter)"),
    ("hybrid_filtered", "hybrid search, territory filter (Creuse)"),
)


def scale_case(
    out: Out,
    root: Path,
    embedder: Embedder,
    cards: Sequence[Card],
    cache: Path,
    passages: int,
    questions: Questions,
    budget_s: float,
) -> dict[str, Any]:
    """(e): a synthetic corpus of `passages` passages (vectors derived from the real ones, as
    in (c)), built once; then the index's opening time and a query's latency against the raw
    ChromaDB and bm25s calls on the same index."""
    t0 = time.perf_counter()
    synthetic = grown_to(cards, passages, seed=passages)
    corpus = [*cards, *synthetic.cards]
    index_dir = root / "scale"
    index_dir.mkdir()
    shutil.copyfile(cache, index_dir / CACHE_FILE)
    real_vectors = card_vectors(cache, embedder, cards)
    seeded = seed_cache(index_dir / CACHE_FILE, embedder, synthetic, real_vectors, passages)
    prepared = time.perf_counter() - t0
    report = build(index_dir, embedder, corpus)
    generation = current_generation(index_dir)
    assert generation is not None  # just built
    out(
        f"  {len(corpus)} cards, {report.chunks_total} passages ({len(synthetic.cards)} "
        f"synthetic cards, {seeded} derived vectors); cards and cache prepared in "
        f"{prepared:.1f} s (not counted)\n"
        f"  build, machinery only (vectors from the seeded cache)  {report.seconds:8.2f} s  "
        f"({report.chunks_embedded} passages embedded)"
    )
    started = time.perf_counter()
    retriever = HybridRetriever.open(index_dir, embedder)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    retriever.search(questions.all[0], k=5)
    first = time.perf_counter() - started
    out(
        f"  HybridRetriever.open: {opened:.2f} s (first in this process; the passage table, "
        f"bm25s, ChromaDB and its vector index, passages parsed on demand); "
        f"first search after it: {first * 1000:.0f} ms"
    )
    latency = scale_suite(retriever, generation, embedder, interleaved(questions), budget_s)
    out(f"  {latency['hybrid_search']['n']} questions timed")
    out(f"  {'operation':<58} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for key, label in SCALE_OPS:
        f = latency[key]
        out(f"  {label:<58} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} {f['mean_ms']:8.2f}")
    raw = latency["embed_query"]["p95_ms"] + latency["raw_chroma"]["p95_ms"]
    raw += latency["raw_bm25"]["p95_ms"]
    hybrid = latency["hybrid_search"]["p95_ms"]
    out(
        f"  hybrid p95 / (embed_query + raw ChromaDB + raw bm25s) p95: x{ratio(hybrid, raw):.2f}; "
        f"filtered / unfiltered p95: "
        f"x{ratio(latency['hybrid_filtered']['p95_ms'], hybrid):.2f}"
    )
    del retriever
    shutil.rmtree(index_dir, ignore_errors=True)
    return {
        "cards": len(corpus),
        "passages": report.chunks_total,
        "machinery_s": report.seconds,
        "embedded_during_build": report.chunks_embedded,
        "open_s": opened,
        "first_search_s": first,
        "latency": latency,
    }


# -- the run ------------------------------------------------------------------------------------
def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    settings = Settings()
    embedder: Embedder = E5Embedder()
    all_cards = load_cards(settings.cards_dir)
    cards = all_cards[:5] if args.smoke else all_cards
    questions = load_questions(QUESTIONS_FILE, 10 if args.smoke else None)
    factors = (10,) if args.quick or args.smoke else (10, 100)
    sample_size = 4 if args.smoke else 20 if args.quick else 40
    budget = 45.0 if args.quick or args.smoke else 150.0  # seconds per latency pass, at most
    figures: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "quick" if args.quick else "full",
        "scale_passages": args.passages,
        "corpus": {
            "cards": len(cards),
            "passages": sum(len(chunk_card(c)) for c in cards),
            "questions": len(questions.all),
            "in_scope": len(questions.in_scope),
            "out_of_scope": len(questions.out_of_scope),
        },
    }
    figures["load_start"] = list(os.getloadavg())
    out(
        f"Aiguillage retrieval benchmark ({figures['mode']}): {len(cards)} cards, "
        f"{figures['corpus']['passages']} passages, {len(questions.all)} questions "
        f"({len(questions.in_scope)} in scope, {len(questions.out_of_scope)} out of scope)\n"
        f"{load()}"
    )
    started = time.perf_counter()
    embedder.embed_query("échauffement du modèle")  # load the model outside every timing
    out(f"model load + first query: {time.perf_counter() - started:.2f} s (not counted below)")

    root = Path(tempfile.mkdtemp(prefix="aiguillage-bench-"))
    if args.scale_only:
        try:
            out.section(f"(e) {args.passages} passages (synthetic), index open and query")
            cache = TEST_CACHE
            if not cache.is_file():  # no test index yet: embed the shipped corpus once
                cache = root / "shipped" / CACHE_FILE
                build(cache.parent, embedder, cards)
            figures["scale"] = scale_case(
                out, root, embedder, cards, cache, args.passages, questions, budget
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return finish(figures, out)
    try:
        # (b) builds of the shipped corpus ---------------------------------------------------
        out.section("(b) index build, shipped corpus")
        cold_dir = root / "shipped-cold"
        cold = build(cold_dir, embedder, cards)
        warm_dir = root / "shipped-warm"
        warm_dir.mkdir()
        shutil.copyfile(cold_dir / CACHE_FILE, warm_dir / CACHE_FILE)
        warm = build(warm_dir, embedder, cards)
        figures["build"] = {
            "cold_s": cold.seconds,
            "cold_embedded": cold.chunks_embedded,
            "cold_passages_per_s": ratio(cold.chunks_embedded, cold.seconds),
            "warm_s": warm.seconds,
            "warm_embedded": warm.chunks_embedded,
            "cold_over_warm": ratio(cold.seconds, warm.seconds),
        }
        out(
            f"  cold build (fresh dir, empty cache)   {cold.seconds:8.2f} s  "
            f"{cold.chunks_embedded} passages embedded, "
            f"{figures['build']['cold_passages_per_s']:.2f} embedded passages/s (end to end)\n"
            f"  warm build (fresh dir, cache filled)  {warm.seconds:8.2f} s  "
            f"{warm.chunks_embedded} passages embedded (baseline: the machinery alone)\n"
            f"  cold / warm                           x{figures['build']['cold_over_warm']:.1f}"
        )

        # (a) latency on the shipped corpus ---------------------------------------------------
        out.section("(a) latency over the question set, shipped corpus (warm)")
        retriever, answerer, opened = open_answerer(warm_dir, embedder, cards, settings)
        latency, declined = latency_suite(retriever, answerer, embedder, questions, budget)
        figures["latency_shipped"] = {"open_s": opened, **latency, "answers": declined}
        out(f"  HybridRetriever.open: {opened:.2f} s")
        print_latency(out, latency, declined)
        del retriever, answerer

        # (c) grown corpora ------------------------------------------------------------------
        real_vectors = card_vectors(cold_dir / CACHE_FILE, embedder, cards)
        grown: dict[str, Any] = {}
        figures["grown"] = grown
        throughput: float | None = None
        grown_dirs: dict[int, tuple[Path, list[Card]]] = {}
        for factor in factors:
            out.section(f"(c) corpus grown {factor}x with synthetic cards")
            synthetic = synthetic_cards(cards, (factor - 1) * len(cards), seed=factor)
            corpus = [*cards, *synthetic.cards]
            index_dir = root / f"grown-{factor}x"
            index_dir.mkdir()
            t0 = time.perf_counter()
            shutil.copyfile(cold_dir / CACHE_FILE, index_dir / CACHE_FILE)
            seeded = seed_cache(index_dir / CACHE_FILE, embedder, synthetic, real_vectors, factor)
            seeding = time.perf_counter() - t0
            if throughput is None:
                texts = [
                    chunk.search_text for card in synthetic.cards for chunk in chunk_card(card)
                ][:sample_size]
                sample_s, throughput = embedding_throughput(embedder, texts)
                grown["embedding_sample"] = {
                    "passages": len(texts),
                    "seconds": sample_s,
                    "passages_per_s": throughput,
                }
                out(
                    f"  model throughput on {len(texts)} synthetic passages: "
                    f"{sample_s:.2f} s, {throughput:.2f} passages/s"
                )
            report = build(index_dir, embedder, corpus)
            projected = report.seconds + report.chunks_total / throughput
            entry: dict[str, Any] = {
                "cards": len(corpus),
                "passages": report.chunks_total,
                "seeded_vectors": seeded,
                "seeding_s": seeding,
                "machinery_s": report.seconds,
                "embedded_during_build": report.chunks_embedded,
                "projected_cold_s": projected,
            }
            out(
                f"  {len(corpus)} cards, {report.chunks_total} passages; cache seeded with "
                f"{seeded} derived vectors in {seeding:.2f} s (not counted)\n"
                f"  build, machinery only (vectors from the seeded cache)  "
                f"{report.seconds:8.2f} s  ({report.chunks_embedded} passages embedded)\n"
                f"  projected full cold build = machinery + {report.chunks_total} passages / "
                f"{throughput:.2f} passages/s = {projected:8.1f} s ({projected / 60:.1f} min) "
                f"[projected, not measured]"
            )
            retriever, answerer, opened = open_answerer(index_dir, embedder, corpus, settings)
            latency, declined = latency_suite(retriever, answerer, embedder, questions, budget)
            entry.update({"open_s": opened, "latency": latency, "answers": declined})
            out(f"  HybridRetriever.open: {opened:.2f} s")
            print_latency(out, latency, declined)
            shipped_ask = figures["latency_shipped"]["ask"]
            p50 = ratio(latency["ask"]["p50_ms"], shipped_ask["p50_ms"])
            p95 = ratio(latency["ask"]["p95_ms"], shipped_ask["p95_ms"])
            out(f"  ask vs shipped corpus: p50 x{p50:.2f}, p95 x{p95:.2f}")
            del retriever, answerer
            grown[f"{factor}x"] = entry
            if factor == 10:
                grown_dirs[factor] = (index_dir, corpus)
            else:
                shutil.rmtree(index_dir, ignore_errors=True)

        # (d) incremental re-index ------------------------------------------------------------
        out.section("(d) incremental re-index of one changed card vs full rebuild")
        figures["reindex"] = {
            "shipped": reindex_one_card(out, warm_dir, embedder, cards, "shipped corpus")
        }
        if 10 in grown_dirs:
            index_dir, corpus = grown_dirs[10]
            figures["reindex"]["10x"] = reindex_one_card(
                out, index_dir, embedder, corpus, "10x corpus"
            )
            shutil.rmtree(index_dir, ignore_errors=True)

        # (e) 10^5 passages -------------------------------------------------------------------
        out.section(f"(e) {args.passages} passages (synthetic), index open and query")
        figures["scale"] = scale_case(
            out, root, embedder, cards, cold_dir / CACHE_FILE, args.passages, questions, budget
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return finish(figures, out)


def finish(figures: dict[str, Any], out: Out) -> dict[str, Any]:
    figures["total_s"] = time.perf_counter() - out.started
    figures["cpu_s"] = time.process_time()
    figures["load_end"] = list(os.getloadavg())
    out(
        f"\ntotal benchmark time: {figures['total_s']:.0f} s wall, {figures['cpu_s']:.0f} s CPU "
        f"(this process, all threads); {load()}"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="skip the 100x corpus")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny subset (5 cards, 10 questions, 10x only)"
    )
    parser.add_argument(
        "--passages",
        type=int,
        default=None,
        help=f"passages of section (e) (default {SCALE_PASSAGES}, 300 with --smoke)",
    )
    parser.add_argument(
        "--scale-only", action="store_true", help="run section (e) alone (10^5 passages)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.passages is None:
        args.passages = 300 if args.smoke else SCALE_PASSAGES
    if not 100 <= args.passages <= 1_000_000:
        parser.error("--passages: between 100 and 1000000")
    out = Out(args.json)
    figures = run(args, out)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
