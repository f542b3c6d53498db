"""The report is linear in answers and gives the same numbers as before, to the last digit.

``random_report.json`` was computed by the implementation that gave every rater a dense list as long as the study
(see ``random_ratings``); the sparse one must reproduce it exactly, and its cost must grow with the answers only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import FrameType

from annotation.reports.study_report import report_compute
from tests.annotation.reports.random_ratings import RANDOM_SEED, random_ratings

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "reports" / "random_report.json"
PROJECT = Path(__file__).resolve().parents[3]


def test_same_numbers_as_the_dense_implementation() -> None:
    expected = json.loads(GOLDEN.read_text())
    computed = json.loads(json.dumps(report_compute(ratings=random_ratings(seed=RANDOM_SEED, dense=False))))
    assert computed.keys() == expected.keys()
    assert computed["summary"] == expected["summary"]
    assert computed["matrix"] == expected["matrix"]
    assert computed["model_matrix"] == expected["model_matrix"]
    assert computed["tables"].keys() == expected["tables"].keys()
    for name, table in expected["tables"].items():
        assert computed["tables"][name] == table, name


def test_no_rater_holds_a_label_per_study_item() -> None:
    ratings = random_ratings(seed=3, dense=False, personas=40)
    answers = sum(len(human.labels) for human in ratings.humans)
    assert answers <= 6 * len(ratings.humans) < len(ratings.items) * len(ratings.humans) / 10


def _lines_run(ratings: object) -> int:
    """Lines of the project's own code (annotation/, benchmarks/) that computing the report executes: a count, not a
    time, so the test says the same on a loaded CI machine as on a quiet one."""
    roots = tuple(str(PROJECT / app) for app in ("annotation", "benchmarks"))
    count = 0

    def in_frame(frame: FrameType, event: str, arg: object) -> object:
        nonlocal count
        if event == "line":
            count += 1
        return in_frame

    def on_call(frame: FrameType, event: str, arg: object) -> object:
        return in_frame if frame.f_code.co_filename.startswith(roots) else None

    sys.settrace(on_call)
    try:
        report_compute(ratings=ratings)
    finally:
        sys.settrace(None)
    return count


def test_the_human_tables_grow_with_the_answers_not_with_personas_squared() -> None:
    """Four times the personas (four times the answers) must not cost anything like sixteen times the work."""

    def work(personas: int) -> int:
        ratings = random_ratings(seed=5, dense=False, personas=personas, questions=4)
        ratings.judges = []  # the judges' bootstrap is linear too, but large enough to drown the signal
        return _lines_run(ratings)

    small, large = work(150), work(600)
    assert large < 6 * small, (small, large)  # linear: about 4x (measured 4.1x); quadratic: about 16x
