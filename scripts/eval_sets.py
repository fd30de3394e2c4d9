"""Where the evaluation sets live, by split, for the measurement scripts.

`dev` / `test`: the frozen held-out halves (tests/holdout/, written blind to the rules): tune
on dev, run test once before and once after a change. `dev2`, `dev3`: sets written from the
outside later (tests/devsets/), for tuning only: their figures are never a result (`dev3`'s
first run, before tuning on it, is kept in tests/devsets/result-people3-first-session9.json).
`fresh`: people6 and questions6 (session 11), a fresh measure until session 12 ran people6
to decide what the needs classifier learns from: no longer fresh, failures still unread.
`fresh8`: people8 and questions8 (written at the end of session 11), the fresh measure of
sessions 12-13 (run before and after). `fresh9`: people9 and questions9 (written at the end
of session 13), the fresh measure of session 14 (run before and after). `fresh10`: people10
and questions11 (written at the end of session 14, never run), the next session's fresh
measure. `dev4`: people4 and
questions4, the fresh measure of sessions 9–10, measured often enough that it is now tuned
on. `dev5`: people5 and questions5 (session 10) and `dev7`: people7 and questions7 (session
11), written from the outside for tuning; their first runs, before tuning, are kept in
tests/devsets/. `dev12`: people12 (places said every way) and questions12 (session 15, written
blind), for tuning; their first runs are kept in tests/devsets/ (`…-first-session15.json`).
`fresh11`: people11 and
questions13 (written blind at the end of session 15), the fresh measure of session 16 (run
before any change and at its end). From session 16, `fresh`, `fresh8`, `fresh9` and `fresh10`
are tuning sets: each was measured several times with failures unread, and their failures
were then read and tuned on (their figures are no longer a result). `fresh13`: people13,
questions14 (and descriptions20, read by scripts/bench_descriptions.py), written blind in
session 16, never run: the fresh measure of session 17 (run before its changes; its final run
came in session 18). `fresh14`: people14, questions15 (and descriptions21), written blind at the
start of session 18: that session's fresh measure (run once before its changes, once at its
end). `dev16`: questions16 (150 real-life questions on many everyday topics, written blind in
session 18), for tuning; its first run is kept in tests/devsets/
(`questions16-first-session18.json`). `dev17`: questions17 (120 questions of project holders
and advisers, written blind in session 18), for tuning; first run in
`questions17-first-session18.json`. `dev15`: people15 (80 conversations on the hard
distinctions, written blind in session 18), for tuning; first run in
`result-people15-first-session18.json`. `fresh16`: people16, questions18 (and descriptions22),
written blind at the start of session 19: that session's fresh measure (run once before its
changes, once at its end); from session 19 `fresh13` and `fresh14` are tuning sets.
`fresh17`: people17, questions19 (and descriptions23), written blind at the start of session 20:
that session's fresh measure; from session 20 `fresh16` is a tuning set.
`fresh18`: people18, questions20 (and descriptions24), written blind at the start of session 21:
that session's fresh measure; from session 21 `fresh17` is a tuning set.
`fresh19`: people19, questions21 (and descriptions25), written blind at the start of session 22:
that session's fresh measure; from session 22 `fresh18` is a tuning set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

TESTS = Path(__file__).resolve().parent.parent / "tests"
HOLDOUT = TESTS / "holdout"
DEVSETS = TESTS / "devsets"

Split = Literal[
    "dev",
    "test",
    "dev2",
    "dev3",
    "dev4",
    "dev5",
    "dev7",
    "fresh",
    "fresh8",
    "fresh9",
    "fresh10",
    "dev12",
    "fresh11",
    "fresh13",
    "fresh14",
    "dev16",
    "dev17",
    "dev15",
    "fresh16",
    "fresh17",
    "fresh18",
    "fresh19",
]
SPLITS: tuple[Split, ...] = get_args(Split)  # one list: the type is the source

PEOPLE: dict[Split, Path] = {
    "dev": HOLDOUT / "dev",
    "test": HOLDOUT / "test",
    "dev2": DEVSETS / "people",
    "dev3": DEVSETS / "people3",
    "dev4": DEVSETS / "people4",
    "dev5": DEVSETS / "people5",
    "dev7": DEVSETS / "people7",
    "fresh": DEVSETS / "people6",
    "fresh8": DEVSETS / "people8",
    "fresh9": DEVSETS / "people9",
    "fresh10": DEVSETS / "people10",
    "fresh11": DEVSETS / "people11",
    "dev12": DEVSETS / "people12",
    "fresh13": DEVSETS / "people13",
    "fresh14": DEVSETS / "people14",
    "dev15": DEVSETS / "people15",
    "fresh16": DEVSETS / "people16",
    "fresh17": DEVSETS / "people17",
    "fresh18": DEVSETS / "people18",
    "fresh19": DEVSETS / "people19",
}
ADVISER: dict[Split, Path] = {
    "dev": HOLDOUT / "adviser-dev.yaml",
    "test": HOLDOUT / "adviser-test.yaml",
    "dev2": DEVSETS / "adviser.yaml",
}
QUESTIONS: dict[Split, Path] = {
    "dev": HOLDOUT / "questions" / "dev.yaml",
    "test": HOLDOUT / "questions" / "test.yaml",
    "dev2": DEVSETS / "questions.yaml",
    "dev3": DEVSETS / "questions3.yaml",
    "dev4": DEVSETS / "questions4.yaml",
    "dev5": DEVSETS / "questions5.yaml",
    "dev7": DEVSETS / "questions7.yaml",
    "fresh": DEVSETS / "questions6.yaml",
    "fresh8": DEVSETS / "questions8.yaml",
    "fresh9": DEVSETS / "questions9.yaml",
    "fresh10": DEVSETS / "questions11.yaml",
    "dev12": DEVSETS / "questions12.yaml",
    "fresh11": DEVSETS / "questions13.yaml",
    "fresh13": DEVSETS / "questions14.yaml",
    "fresh14": DEVSETS / "questions15.yaml",
    "dev16": DEVSETS / "questions16.yaml",
    "dev17": DEVSETS / "questions17.yaml",
    "fresh16": DEVSETS / "questions18.yaml",
    "fresh17": DEVSETS / "questions19.yaml",
    "fresh18": DEVSETS / "questions20.yaml",
    "fresh19": DEVSETS / "questions21.yaml",
}
