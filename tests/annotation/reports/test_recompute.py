"""The demo report recomputed independently from its own CSV exports with scikit-learn: the headline (humans and
judges against the leave-one-out majorities), the judges against the majority of all raters, and the pooled
human-human kappa all agree with what the report shows."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from itertools import combinations

import pytest
from django.test import Client
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY, report_demo_ensure

ORDERS = ("AB", "BA")


def _csv(client: Client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


@pytest.fixture
def demo(db: None, analyst: object, client: Client) -> tuple[Study, Client]:
    report_demo_ensure()
    client.force_login(analyst)
    return Study.objects.get(name=DEMO_REPORT_STUDY), client


def _table(client: Client, study: Study, name: str) -> list[dict[str, str]]:
    return _csv(client, reverse("study-report-table", args=[study.pk, name, "csv"]))


def test_headline_figures_recomputed_from_the_csv_exports(demo: tuple[Study, Client]) -> None:
    study, client = demo
    answers = [
        row
        for row in _csv(client, reverse("study-export", args=[study.pk, "answers.csv"]))
        if row["question_kind"] == "pair" and row["participant_status"] == "submitted" and row["review"] != "excluded"
    ]
    # Who said what, from the raw answers export only.
    by_question: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for row in answers:
        by_question[(row["persona_position"], row["question_position"])][row["participant_id"]] = row["choice"]
    own, others = [], {}
    for question, votes in by_question.items():
        for participant, choice in votes.items():
            rest = Counter(c for p, c in votes.items() if p != participant)
            winner = next((label for label, n in rest.items() if n > sum(rest.values()) / 2), None)
            others[(participant, question[1])] = winner
            own.append((participant, question[1], choice, winner))

    # The report's long table names the same references.
    pairs = _table(client, study, "loo_pairs")
    assert len(pairs) == len(own)
    for row in pairs:
        assert (row["others_majority"] or None) == others[(row["participant"], row["question_position"])]

    headline = {row["rater"]: row for row in _table(client, study, "loo")}
    defined = [(choice, ref) for _, _, choice, ref in own if ref is not None]
    humans = headline["Humans"]
    assert int(humans["n"]) == len(defined)
    assert float(humans["kappa"]) == pytest.approx(cohen_kappa_score(*zip(*defined, strict=True)), abs=1e-12)

    judges = [column.rsplit(" · ", 1)[0] for column in pairs[0] if column.endswith(" · AB")]
    assert len(judges) == 4
    for judge in judges:
        stacked = [
            (row[f"{judge} · {order}"], row["others_majority"])
            for order in ORDERS
            for row in pairs
            if row["others_majority"] and row[f"{judge} · {order}"] in ("chosen", "rejected")
        ]
        assert int(headline[judge]["n"]) == len(stacked)
        expected = cohen_kappa_score(*zip(*stacked, strict=True))
        assert float(headline[judge]["kappa"]) == pytest.approx(expected, abs=1e-12), judge


def test_judges_against_the_majority_and_the_human_pairs_recomputed(demo: tuple[Study, Client]) -> None:
    study, client = demo
    majority = {
        (row["persona_position"], row["question_position"]): row["majority"]
        for row in _csv(client, reverse("study-export", args=[study.pk, "majority.csv"]))
    }
    pairs = _table(client, study, "loo_pairs")
    answer_of: dict[tuple[str, str], dict[str, str]] = {}
    for row in pairs:
        answer_of[(row["persona"].split(".")[0], row["question_position"])] = row
    rows = {row["judge"]: row for row in _table(client, study, "judges")}
    for judge, shown in rows.items():
        stacked = [
            (answer_of[question][f"{judge} · {order}"], label)
            for order in ORDERS
            for question, label in majority.items()
            if label and answer_of[question][f"{judge} · {order}"] in ("chosen", "rejected")
        ]
        assert int(shown["n"]) == len(stacked)
        if shown["kappa"]:
            assert float(shown["kappa"]) == pytest.approx(cohen_kappa_score(*zip(*stacked, strict=True)), abs=1e-12)

    # Human-human: every pair of raters of the same persona, pooled, from the raw answers.
    answers = [
        r for r in _csv(client, reverse("study-export", args=[study.pk, "answers.csv"])) if r["question_kind"] == "pair"
    ]
    by_persona: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for r in answers:
        by_persona[r["persona_position"]][r["participant_id"]][r["question_position"]] = r["choice"]
    first, second = [], []
    for raters in by_persona.values():
        for a, b in combinations(sorted(raters), 2):
            for question in sorted(set(raters[a]) & set(raters[b])):
                first.append(raters[a][question])
                second.append(raters[b][question])
    baseline = {row["statistic"]: row for row in _table(client, study, "human_baseline")}
    pooled = baseline["Cohen's kappa, pooled over every pair of raters of the same persona"]
    assert int(pooled["n"]) == len(first)
    assert float(pooled["value"]) == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)


def test_the_demo_report_page_shows_the_leave_one_out_figures_and_says_what_each_table_compares(
    demo: tuple[Study, Client],
) -> None:
    study, client = demo
    html = client.get(reverse("study-report", args=[study.pk])).content.decode()
    assert "What each table compares" in html
    assert "Headline, like for like: humans and judges against the same leave-one-out majorities" in html
    assert "the paper&#x27;s comparison" in html.lower() or "the paper's comparison" in html.lower()
    assert "no interval: 3 personas" in html
    assert "Human-human baseline (headline: Krippendorff&#x27;s alpha)" in html
