"""Score the assistant's answers on the held-out real-life questions (tests/holdout/questions).

Used by scripts/evaluate.py (`--split dev|test`). A question is right when:

- `expect: answer`: the answer is not declined and holds every `must_contain` item (an item
  lists alternatives separated by "|"; matching is case-, accent- and space-insensitive);
- `expect: decline`: the answer is declined and invents nothing: no amount, rate, phone
  number or e-mail address (a decline may only point to people and their sourced pages).

Also measured: the share of right answers whose words all sit in the first 60 words (what a
person reads on a phone) and the median answer length in words.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from eval_sets import QUESTIONS, Split  # scripts/ is on sys.path when run

from assistant.answers.answering import Answer, Answerer
from assistant.text import fold

FIRST_WORDS = 60

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# What a decline must not contain: figures a person could take as an answer, or contacts
# that no source gave (the decline names people through the directory's `how_to_reach`).
_INVENTED = {
    "amount": re.compile(r"\d[\d\s.,]*\s*(?:€|euros?\b|%)", re.IGNORECASE),
    "phone": re.compile(r"(?<!\d)0\d(?:[\s.]?\d{2}){4}(?!\d)"),
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expect: Literal["answer", "decline"]
    must_contain: tuple[str, ...] = ()
    who: str = ""
    register: str = ""


@dataclass
class Outcome:
    question: Question
    answer: Answer
    right: bool
    missing: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)
    early: bool = False  # right, and its words are in the first FIRST_WORDS words


@dataclass
class RealQuestionsReport:
    split: str
    outcomes: list[Outcome]

    def _share(self, rows: list[Outcome], test: Any) -> float:
        return sum(1 for r in rows if test(r)) / len(rows) if rows else 0.0

    @property
    def right(self) -> float:
        return self._share(self.outcomes, lambda o: o.right)

    def right_for(self, expect: str) -> float:
        return self._share([o for o in self.outcomes if o.question.expect == expect], _is_right)

    @property
    def early(self) -> float:
        answered = [o for o in self.outcomes if o.right and o.question.expect == "answer"]
        return self._share(answered, lambda o: o.early)

    @property
    def invented_in_declines(self) -> int:
        return sum(1 for o in self.outcomes if o.answer.declined and o.invented)

    @property
    def median_words(self) -> float:
        lengths = [len(_words(_body(o.answer))) for o in self.outcomes if not o.answer.declined]
        return statistics.median(lengths) if lengths else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "questions": len(self.outcomes),
            "right": round(self.right, 4),
            "right_answers": round(self.right_for("answer"), 4),
            "right_declines": round(self.right_for("decline"), 4),
            "right_words_in_first_60": round(self.early, 4),
            "median_answer_words": self.median_words,
            "invented_in_declines": self.invented_in_declines,
            "failures": [
                {
                    "id": o.question.id,
                    "question": o.question.question,
                    "expect": o.question.expect,
                    "declined": o.answer.declined,
                    "missing": o.missing,
                    "invented": o.invented,
                    "sources": [s.id for s in o.answer.sources],
                }
                for o in self.outcomes
                if not o.right
            ],
        }


def _is_right(outcome: Outcome) -> bool:
    return outcome.right


def _flat(text: str) -> str:
    return _SPACES.sub(" ", fold(text))


def _words(text: str) -> list[str]:
    return text.split()


def _body(answer: Answer) -> str:
    return answer.body or answer.answer


def _found(item: str, text: str) -> bool:
    return any(_matches(_flat(alt), text) for alt in item.split("|") if alt)


# Later sets write some alternatives as patterns ("15 ?000", "\\baci\\b"); earlier ones are
# plain words, some with a dot ("art. 238 bis"), which stays literal without another sign.
_PATTERN_SIGNS = re.compile(r"[?*+\\\[\](){}^$]")


def _matches(alternative: str, text: str) -> bool:
    if _PATTERN_SIGNS.search(alternative):
        try:
            return re.search(alternative, text) is not None
        except re.error:
            pass
    return alternative in text


def load_questions(split: Split) -> list[Question]:
    raw = yaml.safe_load(QUESTIONS[split].read_text(encoding="utf-8"))
    return [
        Question(
            id=str(entry["id"]),
            question=str(entry["question"]),
            expect=entry["expect"],
            must_contain=tuple(str(w) for w in entry.get("must_contain") or ()),
            who=str(entry.get("who", "")),
            register=str(entry.get("register", "")),
        )
        for entry in raw
    ]


def score(question: Question, answer: Answer) -> Outcome:
    body = _body(answer)
    if question.expect == "decline":
        invented = [name for name, pattern in _INVENTED.items() if pattern.search(answer.answer)]
        return Outcome(question, answer, answer.declined and not invented, invented=invented)
    text = _flat(body)
    missing = [item for item in question.must_contain if not _found(item, text)]
    right = not answer.declined and not missing
    first = " ".join(_words(text)[:FIRST_WORDS])
    early = right and all(_found(item, first) for item in question.must_contain)
    return Outcome(question, answer, right, missing=missing, early=early)


def evaluate_real_questions(answerer: Answerer, split: Split) -> RealQuestionsReport:
    outcomes = [score(q, answerer.answer(q.question)) for q in load_questions(split)]
    return RealQuestionsReport(split=split, outcomes=outcomes)


def print_real_questions(report: RealQuestionsReport, all_failures: bool = False) -> None:
    data = report.as_json()
    kind = {"dev": "held-out", "test": "held-out", "fresh": "fresh outside"}.get(
        report.split, "outside tuning set,"
    )
    print(f"\nReal-life questions, {kind} {report.split} ({data['questions']} questions)")
    print(f"  right overall:                       {report.right:.1%}")
    print(f"  right among those to answer:         {report.right_for('answer'):.1%}")
    print(f"  right among those to decline:        {report.right_for('decline'):.1%}")
    print(f"  right answers with words in first {FIRST_WORDS}: {report.early:.1%}")
    print(f"  median answer length (words):        {report.median_words:.0f}")
    print(f"  declines with an invented figure or contact: {report.invented_in_declines}")
    failures = data["failures"]
    shown = failures if all_failures else failures[:10]
    for f in shown:
        if f["expect"] == "decline":
            why = f"invented {f['invented']}" if f["declined"] else "answered, should decline"
        elif f["declined"]:
            why = "declined"
        else:
            why = f"missing {f['missing']}"
        print(f"  - {f['id']} {f['question'][:70]}: {why} ({', '.join(f['sources'])})")
    if len(shown) < len(failures):
        print(f"  … {len(failures) - len(shown)} more (--all-failures)")
