"""Evaluate retrieval and grounded answering against tests/eval/questions.yaml.

Usage:
    python scripts/evaluate.py [--questions PATH] [--json] [--calibration] [--all-failures]

Prints, in one run:

- Recall@1, Recall@5 and MRR (over the top 10) at card level, for the ``lexical``, ``dense`` and
  ``hybrid`` retrieval modes; a hit is any card listed in the question's ``relevant``;
- the share of in-scope questions whose ``ask`` answer (hybrid, through the Answerer) is not
  declined and contains every ``must_contain`` word (case- and accent-insensitive);
- the share of out-of-scope questions the Answerer correctly declines;
- per-question failures of hybrid retrieval at 5 (question, expected, got);
- with ``--calibration``: each question's top hybrid hit's dense similarity and term coverage,
  in-scope and out-of-scope side by side, to set ``AIGUILLAGE_STRONG_DENSE_SIMILARITY``,
  ``AIGUILLAGE_MIN_DENSE_SIMILARITY`` and ``AIGUILLAGE_MIN_TERM_COVERAGE``.

The first run builds the search index under var/ (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from contact_reach import contact_reach, print_reach  # scripts/ is on sys.path when run
from eval_sets import SPLITS
from real_questions import evaluate_real_questions, print_real_questions

from assistant.runtime import Runtime
from assistant.search.base import Hit
from assistant.search.retrieval import HybridRetriever, Mode
from assistant.text import fold
from connectors.cli.commands import ensure_index

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions.yaml"
MODES: tuple[Mode, ...] = get_args(Mode)
MRR_DEPTH = 10


@dataclass(frozen=True)
class Item:
    question: str
    relevant: tuple[str, ...]
    must_contain: tuple[str, ...]


@dataclass(frozen=True)
class EvalSet:
    questions: list[Item]
    out_of_scope: list[Item]


@dataclass
class ModeScores:
    recall_at_1: float = 0.0
    recall_at_5: float = 0.0
    mrr: float = 0.0


@dataclass
class Calibration:
    question: str
    in_scope: bool
    top_card: str | None
    similarity: float | None
    coverage: float | None
    correct_card: bool  # in scope: the top card is relevant
    declined: bool


@dataclass
class Report:
    n_questions: int
    n_out_of_scope: int
    retrieval: dict[str, ModeScores] = field(default_factory=dict)
    answer_correct: float = 0.0
    answer_declined_in_scope: float = 0.0
    out_of_scope_declined: float = 0.0
    retrieval_failures: list[dict[str, Any]] = field(default_factory=list)
    answer_failures: list[dict[str, Any]] = field(default_factory=list)
    calibration: list[Calibration] = field(default_factory=list)


# -- loading ----------------------------------------------------------------------------------
def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SystemExit(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def _items(raw: object, section: str) -> list[Item]:
    if not isinstance(raw, list):
        raise SystemExit(f"{section}: expected a list")
    items = []
    for n, entry in enumerate(raw, start=1):
        where = f"{section}[{n}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("question"), str):
            raise SystemExit(f"{where}: expected a mapping with a 'question' string")
        items.append(
            Item(
                question=entry["question"],
                relevant=_strings(entry.get("relevant", []), f"{where}.relevant"),
                must_contain=_strings(entry.get("must_contain", []), f"{where}.must_contain"),
            )
        )
    return items


def load_eval_set(path: Path) -> EvalSet:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping {{questions: [...], out_of_scope: [...]}}")
    return EvalSet(
        questions=_items(data.get("questions", []), "questions"),
        out_of_scope=_items(data.get("out_of_scope", []), "out_of_scope"),
    )


# -- scoring ----------------------------------------------------------------------------------
def first_relevant_rank(hits: list[Hit], relevant: tuple[str, ...]) -> int | None:
    """1-based rank of the first relevant card, or None."""
    for rank, hit in enumerate(hits, start=1):
        if hit.card_id in relevant:
            return rank
    return None


def contains_all(text: str, words: tuple[str, ...]) -> bool:
    folded = fold(text)
    return all(fold(word) in folded for word in words)


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def evaluate(runtime: Runtime, eval_set: EvalSet) -> Report:
    retriever = runtime.retriever
    # The modes (lexical / dense / hybrid) are the real retriever's, beyond the seam.
    assert isinstance(retriever, HybridRetriever), "evaluate.py measures the real index"
    answerer = runtime.answerer
    report = Report(n_questions=len(eval_set.questions), n_out_of_scope=len(eval_set.out_of_scope))
    n = len(eval_set.questions)

    for mode in MODES:
        at_1 = at_5 = 0
        reciprocal = 0.0
        for item in eval_set.questions:
            hits = retriever.search(item.question, k=MRR_DEPTH, mode=mode)
            rank = first_relevant_rank(hits, item.relevant)
            if rank is not None:
                at_1 += rank == 1
                at_5 += rank <= 5
                reciprocal += 1.0 / rank
            if mode == "hybrid":
                top = hits[0] if hits else None
                if rank is None or rank > 5:
                    report.retrieval_failures.append(
                        {
                            "question": item.question,
                            "expected": list(item.relevant),
                            "got": [h.card_id for h in hits[:5]],
                            "rank": rank,
                        }
                    )
                report.calibration.append(
                    Calibration(
                        question=item.question,
                        in_scope=True,
                        top_card=top.card_id if top else None,
                        similarity=top.dense_similarity if top else None,
                        coverage=top.term_coverage if top else None,
                        correct_card=top is not None and top.card_id in item.relevant,
                        declined=False,
                    )
                )
        report.retrieval[mode] = ModeScores(
            recall_at_1=_share(at_1, n),
            recall_at_5=_share(at_5, n),
            mrr=reciprocal / n if n else 0.0,
        )

    correct = declined_in_scope = 0
    by_question = {c.question: c for c in report.calibration}
    for item in eval_set.questions:
        answer = answerer.answer(item.question)
        by_question[item.question].declined = answer.declined
        ok = not answer.declined and contains_all(answer.answer, item.must_contain)
        correct += ok
        declined_in_scope += answer.declined
        if not ok:
            folded = fold(answer.answer)
            report.answer_failures.append(
                {
                    "question": item.question,
                    "declined": answer.declined,
                    "missing": [w for w in item.must_contain if fold(w) not in folded],
                    "sources": [s.id for s in answer.sources],
                }
            )
    report.answer_correct = _share(correct, n)
    report.answer_declined_in_scope = _share(declined_in_scope, n)

    declined = 0
    for item in eval_set.out_of_scope:
        answer = answerer.answer(item.question)
        declined += answer.declined
        hits = retriever.search(item.question, k=1, mode="hybrid")
        top = hits[0] if hits else None
        report.calibration.append(
            Calibration(
                question=item.question,
                in_scope=False,
                top_card=top.card_id if top else None,
                similarity=top.dense_similarity if top else None,
                coverage=top.term_coverage if top else None,
                correct_card=False,
                declined=answer.declined,
            )
        )
        if not answer.declined:
            report.answer_failures.append(
                {
                    "question": item.question,
                    "declined": False,
                    "out_of_scope": True,
                    "sources": [s.id for s in answer.sources],
                }
            )
    report.out_of_scope_declined = _share(declined, len(eval_set.out_of_scope))
    return report


# -- output -----------------------------------------------------------------------------------
def _fmt(value: float | None) -> str:
    return "  —  " if value is None else f"{value:.3f}"


def _summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


def print_calibration(report: Report, runtime: Runtime) -> None:
    s = runtime.settings
    print(
        "\nCalibration (top hybrid hit)  policy: answer if sim >= "
        f"{s.strong_dense_similarity:.2f}, or sim >= {s.min_dense_similarity:.2f} "
        f"and coverage >= {s.min_term_coverage:.2f}"
    )
    print("  sim    cov   top✓ decl  question")
    for in_scope in (True, False):
        rows = [c for c in report.calibration if c.in_scope is in_scope]
        print(f"  -- {'in scope' if in_scope else 'out of scope'} ({len(rows)}) --")
        for c in sorted(rows, key=lambda c: -(c.similarity or 0.0)):
            mark = ("✓" if c.correct_card else "✗") if in_scope else " "
            print(
                f"  {_fmt(c.similarity)} {_fmt(c.coverage)}  {mark}   "
                f"{'D' if c.declined else '.'}    {c.question[:70]}"
            )
        sims = [c.similarity for c in rows if c.similarity is not None]
        covs = [c.coverage for c in rows if c.coverage is not None]
        print(f"     similarity: {_summary(sims)}")
        print(f"     coverage:   {_summary(covs)}")
    print("  what-if on the top hit (in-scope answered / out-of-scope declined), best 5:")
    for strong, low, cov, answered, declined in what_if(report.calibration)[:5]:
        print(
            f"     strong {strong:.2f}  min {low:.2f}  coverage {cov:.2f}: "
            f"{answered:.1%} / {declined:.1%}"
        )


def what_if(rows: list[Calibration]) -> list[tuple[float, float, float, float, float]]:
    """Threshold triples ranked by answered in-scope share + declined out-of-scope share."""
    inside = [c for c in rows if c.in_scope]
    outside = [c for c in rows if not c.in_scope]
    grid = []
    for strong in (0.86, 0.87, 0.88, 0.89, 0.90, 0.92):
        for low in (0.78, 0.80, 0.82, 0.84, 0.85):
            for cov in (0.4, 0.5, 0.51, 0.6, 0.7):

                def accepts(
                    c: Calibration, s: float = strong, lo: float = low, cv: float = cov
                ) -> bool:
                    sim = c.similarity or 0.0
                    return sim >= s or (sim >= lo and (c.coverage or 0.0) >= cv)

                answered = _share(sum(accepts(c) for c in inside), len(inside))
                declined = _share(sum(not accepts(c) for c in outside), len(outside))
                grid.append((strong, low, cov, answered, declined))
    return sorted(grid, key=lambda g: (-(g[3] + g[4]), -g[4], g[0]))


def print_report(report: Report, runtime: Runtime, calibration: bool, all_failures: bool) -> None:
    print(
        f"Evaluation set: {report.n_questions} in-scope questions, "
        f"{report.n_out_of_scope} out-of-scope questions\n"
    )
    print(f"{'mode':<8} {'Recall@1':>9} {'Recall@5':>9} {f'MRR@{MRR_DEPTH}':>8}")
    for mode, scores in report.retrieval.items():
        print(f"{mode:<8} {scores.recall_at_1:>9.3f} {scores.recall_at_5:>9.3f} {scores.mrr:>8.3f}")
    print(
        f"\nAnswers (hybrid, Answerer): {report.answer_correct:.1%} of in-scope answers contain "
        f"all must_contain words and are not declined "
        f"({report.answer_declined_in_scope:.1%} declined)"
    )
    print(f"Out-of-scope questions correctly declined: {report.out_of_scope_declined:.1%}")

    failures = report.retrieval_failures
    print(f"\nRetrieval failures (hybrid, relevant card not in top 5): {len(failures)}")
    for f in failures:
        print(f"  - {f['question']}\n      expected: {', '.join(f['expected'])}")
        print(f"      got:      {', '.join(f['got']) or '(nothing)'}")

    answer_failures = report.answer_failures
    print(f"\nAnswer failures: {len(answer_failures)}")
    shown = answer_failures if all_failures else answer_failures[:15]
    for f in shown:
        if f.get("out_of_scope"):
            why = f"answered out-of-scope question from {', '.join(f['sources'])}"
        elif f["declined"]:
            why = "declined"
        else:
            why = f"missing {f['missing']} (sources: {', '.join(f['sources'])})"
        print(f"  - {f['question']}: {why}")
    if len(shown) < len(answer_failures):
        print(f"  … {len(answer_failures) - len(shown)} more (--all-failures)")

    if calibration:
        print_calibration(report, runtime)


def report_json(report: Report, calibration: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "questions": report.n_questions,
        "out_of_scope_questions": report.n_out_of_scope,
        "retrieval": {
            mode: {
                "recall_at_1": round(s.recall_at_1, 4),
                "recall_at_5": round(s.recall_at_5, 4),
                f"mrr_at_{MRR_DEPTH}": round(s.mrr, 4),
            }
            for mode, s in report.retrieval.items()
        },
        "answers": {
            "in_scope_correct": round(report.answer_correct, 4),
            "in_scope_declined": round(report.answer_declined_in_scope, 4),
            "out_of_scope_declined": round(report.out_of_scope_declined, 4),
        },
        "retrieval_failures": report.retrieval_failures,
        "answer_failures": report.answer_failures,
    }
    if calibration:
        data["calibration"] = [
            {
                "question": c.question,
                "in_scope": c.in_scope,
                "top_card": c.top_card,
                "dense_similarity": c.similarity,
                "term_coverage": c.coverage,
                "top_card_relevant": c.correct_card,
                "declined": c.declined,
            }
            for c in report.calibration
        ]
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="YAML eval set")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--calibration", action="store_true", help="show similarity/coverage of each top hit"
    )
    parser.add_argument("--all-failures", action="store_true", help="list every answer failure")
    parser.add_argument(
        "--split",
        choices=SPLITS,
        help="also score the real-life questions of this set "
        "(tune on the dev splits only; fresh and test are measures)",
    )
    parser.add_argument(
        "--only-real", action="store_true", help="with --split: skip the source questions"
    )
    args = parser.parse_args(argv)

    runtime = Runtime()
    ensure_index(runtime)
    data: dict[str, Any] = {}
    if not args.only_real:
        report = evaluate(runtime, load_eval_set(args.questions))
        data = report_json(report, args.calibration)
        if not args.json:
            print_report(report, runtime, args.calibration, args.all_failures)
    if not args.only_real:
        reach = contact_reach(runtime.engine)
        data["contact_reach"] = reach.as_json()
        if not args.json:
            print_reach(reach)
    if args.split:
        real = evaluate_real_questions(runtime.answerer, args.split)
        data["real_questions"] = real.as_json()
        if not args.json:
            print_real_questions(real, args.all_failures)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
