"""Benchmark adding a document: `knowledge add` (extract + store) and the incremental re-index
it triggers, against a full rebuild of the same corpus, measured in the same run.

Usage:
    python scripts/bench_documents.py [--pages N] [--smoke] [--json]

Prints figures only; nothing here asserts a time. The document is a real PDF written here with
fpdf2 (a dev dependency): N pages of French prose taken from the shipped cards' paragraphs
(shuffled, each page a different mix), so its passages look like the corpus's.

(a) `knowledge add` of the PDF: read + extract (pypdf) + store, then the incremental re-index
    (only the document's passages are embedded by the model, the cards are untouched);
(b) adding the same file again: recognised, nothing rebuilt;
(c) the document changed (every page): incremental re-index vs a full rebuild (force=True) of
    cards + document. Both embed the changed passages for real; the rest comes from the
    embedding cache, as in scripts/bench_retrieval.py (d). A full rebuild without that cache
    (a fresh machine) is projected from the model's throughput measured in (a), and labelled so.

The cards' vectors are taken from an existing embedding cache when there is one (the test
index in var/test-data, else the user's index), copied into a temporary directory: without one
the first build embeds every card (about three minutes on two cores), reported apart.
Everything is written to a temporary directory; the repository's files are never touched.
``--smoke`` uses 5 cards and a 3-page document, to prove the script works; ``--json`` prints
the figures as one JSON document on stdout (the report goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import load  # scripts/ is on sys.path when run

from assistant.documents import (
    DocumentInfo,
    DocumentStore,
    add_document,
    load_passage_sets,
)
from assistant.search.cards import Card, load_cards
from assistant.search.embeddings import E5Embedder, Embedder
from assistant.search.index import BuildReport, IndexBuilder
from assistant.settings import REPO_ROOT, Settings

CACHE_FILE = "embeddings.sqlite3"
MAX_BYTES = 20_000_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def write_pdf(path: Path, cards: Sequence[Card], pages: int, seed: int, edit: str = "") -> Path:
    """A text PDF of `pages` pages, each three or four card paragraphs (latin-1 only: the
    core fonts need no font file). `edit` is appended to every paragraph: the same layout and
    passages, every one of them changed."""
    from fpdf import FPDF

    paragraphs = [
        p.strip().replace("**", "")
        for card in cards
        for p in card.body.split("\n\n")
        if len(p.split()) >= 20 and not p.lstrip().startswith(("-", "*", "#", "|"))
    ]
    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_title(f"Synthèse de test ({pages} pages)")
    pdf.set_author("Banc d'essai Aiguillage")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, f"Partie {number}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for paragraph in rng.sample(paragraphs, k=min(len(paragraphs), rng.choice((3, 4)))):
            text = paragraph.encode("latin-1", "replace").decode("latin-1").replace("?", "'")
            pdf.multi_cell(0, 5, f"{text} {edit}".strip(), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(path))
    return path


def seed_cache(index_dir: Path) -> Path | None:
    """Copy the first existing embedding cache (card vectors) into the bench's index."""
    for candidate in (
        REPO_ROOT / "var" / "test-data" / "index" / CACHE_FILE,
        Settings().index_dir / CACHE_FILE,
    ):
        if candidate.is_file():
            index_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(candidate, index_dir / CACHE_FILE)
            return candidate
    return None


def build(
    builder: IndexBuilder, cards: Sequence[Card], documents_dir: Path, force: bool = False
) -> BuildReport:
    return builder.build(cards, force=force, documents=load_passage_sets(documents_dir))


def add(store: DocumentStore, pdf: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = add_document(store, pdf, DocumentInfo(publisher="Banc d'essai"), MAX_BYTES)
    return time.perf_counter() - started, result.status


def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder: Embedder = E5Embedder()
    all_cards = load_cards(Settings().cards_dir)
    cards = all_cards[:5] if args.smoke else all_cards
    pages = 3 if args.smoke else args.pages
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as tmp:
        root = Path(tmp)
        index_dir = root / "index"
        documents_dir = root / "documents"
        store = DocumentStore(documents_dir)
        builder = IndexBuilder(index_dir, embedder)
        cache = seed_cache(index_dir)
        log(f"{load()}\ncards: {len(cards)}; card vectors from {cache or 'the model (no cache)'}")
        base = build(builder, cards, documents_dir)
        log(
            f"initial build of the cards    {base.seconds:8.2f} s "
            f"({base.chunks_embedded} of {base.chunks_total} passages embedded)"
        )

        pdf = write_pdf(root / "synthese.pdf", all_cards, pages, seed=1)
        add_s, status = add(store, pdf)
        incremental = build(builder, cards, documents_dir)
        doc_passages = incremental.chunks_total - base.chunks_total
        log(
            f"\n(a) knowledge add of a {pages}-page PDF ({pdf.stat().st_size // 1024} KiB), "
            f"{doc_passages} passages\n"
            f"    extract + store             {add_s:8.2f} s ({status})\n"
            f"    incremental re-index        {incremental.seconds:8.2f} s "
            f"({incremental.chunks_embedded} passage(s) embedded)"
        )

        again_s, again_status = add(store, pdf)
        again = build(builder, cards, documents_dir)
        log(
            f"\n(b) the same file added again\n"
            f"    extract + compare           {again_s:8.2f} s ({again_status})\n"
            f"    re-index                    {again.seconds:8.2f} s "
            f"(changed: {again.changed})"
        )

        write_pdf(pdf, all_cards, pages, seed=2)  # same name, every page different
        add(store, pdf)
        changed = build(builder, cards, documents_dir)
        # The same edit load for the full rebuild: every passage of that version changed again.
        write_pdf(pdf, all_cards, pages, seed=2, edit="(Mise à jour.)")
        add(store, pdf)
        full = build(builder, cards, documents_dir, force=True)
        machinery = build(builder, cards, documents_dir, force=True)  # nothing to embed
        ratio = full.seconds / changed.seconds if changed.seconds > 0 else 0.0
        log(
            f"\n(c) the document changed: incremental re-index vs full rebuild, "
            f"{full.chunks_total} passages\n"
            f"    incremental re-index        {changed.seconds:8.2f} s "
            f"({changed.chunks_embedded} passage(s) embedded)\n"
            f"    full rebuild (force=True)   {full.seconds:8.2f} s "
            f"({full.chunks_embedded} passage(s) embedded, rest from the cache)\n"
            f"    full / incremental          x{ratio:.2f}\n"
            f"    full rebuild, all cached    {machinery.seconds:8.2f} s "
            f"({machinery.chunks_embedded} embedded: the index machinery alone)"
        )
        # Without the embedding cache a full rebuild embeds every passage: projected from the
        # model's throughput measured in (a), as scripts/bench_retrieval.py does.
        per_s = incremental.chunks_embedded / incremental.seconds if incremental.seconds else 0.0
        cold = full.chunks_total / per_s if per_s else 0.0
        log(
            f"    full rebuild, empty cache   {cold:8.0f} s  [projected, not measured: "
            f"{full.chunks_total} passages at {per_s:.1f} passages/s from (a)]"
        )
        total = time.perf_counter() - started
        log(f"\n{load()}\ntotal benchmark time {total:.1f} s")
        return {
            "mode": "smoke" if args.smoke else "full",
            "cards": len(cards),
            "pages": pages,
            "document_passages": doc_passages,
            "initial": {"seconds": base.seconds, "embedded": base.chunks_embedded},
            "add": {
                "extract_store_s": add_s,
                "incremental_s": incremental.seconds,
                "incremental_embedded": incremental.chunks_embedded,
            },
            "again": {"status": again_status, "seconds": again_s, "rebuilt": again.changed},
            "reindex": {
                "chunks_total": full.chunks_total,
                "incremental_s": changed.seconds,
                "incremental_embedded": changed.chunks_embedded,
                "full_s": full.seconds,
                "full_embedded": full.chunks_embedded,
                "full_over_incremental": ratio,
                "projected_cold_full_s": cold,
                "full_all_cached_s": machinery.seconds,
            },
            "total_s": total,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20, help="pages of the PDF (default 20)")
    parser.add_argument("--smoke", action="store_true", help="5 cards, a 3-page PDF")
    parser.add_argument("--json", action="store_true", help="figures as JSON on stdout")
    args = parser.parse_args()
    figures = run(args)
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
