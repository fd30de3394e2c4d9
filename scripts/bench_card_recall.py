"""Whether the card that answers a question is the one cited (tests/devsets/asks14/).

Three helpers who read the cards but no test, script or rule wrote four informal ways of
asking per card (SMS, spoken, short, non-native, adviser): 795 questions, each naming the card
that answers it. They are not a held-out measure of answer quality (their authors saw the
cards), but they say, over every card, how often people's wordings reach the right one:

- retrieval: the card is the first hit / among the first five (hybrid search);
- answers: the answer cites the card, quotes another card only, or declines.

    python scripts/bench_card_recall.py [--smoke] [--json]

``--smoke`` reads the first 20 ways of asking only, to prove the script works.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from benchlib import load  # scripts/ is on sys.path when run
from eval_sets import DEVSETS

from assistant.runtime import Runtime
from assistant.settings import Settings
from connectors.cli.commands import ensure_index

ASKS = DEVSETS / "asks14"


def load_asks(folder: Path = ASKS) -> list[tuple[str, str]]:
    """(card id, question) for every way of asking in the folder's ask-*.yaml files."""
    asks: list[tuple[str, str]] = []
    for path in sorted(folder.glob("ask-*.yaml")):
        for card_id, questions in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            asks += [(str(card_id), str(q)) for q in questions]
    return asks


def card_recall(runtime: Runtime, asks: list[tuple[str, str]]) -> dict[str, Any]:
    answerer = runtime.answerer
    outcomes: Counter[str] = Counter()
    first = top5 = 0
    for card_id, question in asks:
        hits = answerer.retriever.search(answerer.spell(question), k=5)
        ids = [h.card_id for h in hits]
        first += bool(ids) and ids[0] == card_id
        top5 += card_id in ids
        answer = answerer.answer(question)
        if answer.declined:
            outcomes["declined"] += 1
        elif card_id in {s.id for s in answer.sources}:
            outcomes["cites_the_card"] += 1
        else:
            outcomes["cites_another_card"] += 1
    n = max(1, len(asks))
    return {
        "questions": len(asks),
        "retrieval_first": round(first / n, 4),
        "retrieval_top5": round(top5 / n, 4),
        **{f"answer_{k}": round(v / n, 4) for k, v in sorted(outcomes.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="the first 20 questions only")
    args = parser.parse_args()
    runtime = Runtime(Settings())
    ensure_index(runtime)  # an edited card is never read from a stale index
    asks = load_asks()[: 20 if args.smoke else None]
    report = {"load": load(), **card_recall(runtime, asks)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for key, value in report.items():
        print(f"{key}: {value:.1%}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
