"""Bench pages, downloads and the API: analysts read, coordinators start; numbers equal a hand computation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from benchmarks.bench.config import bench_config_parse
from benchmarks.bench.models import BenchAnswer, BenchItem, BenchRun, Verdict
from benchmarks.bench.services import BENCH_RUN_JOB, bench_run_create
from core.llm.endpoints import endpoint_upsert
from core.llm.models import Provider
from core.models import Job, JobStatus
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hand_run(bench_data: dict[str, list[Any]], endpoint: Callable) -> BenchRun:
    """A run whose verdicts are set by hand: model m, method persona, 2 samples per item, 4 items, 4 personas.

    persona 0: item A passes 2/2, item B 1/2; persona 1: item C 0/2; persona 2: item D 1/2 (one invalid critic reply).
    """
    model = endpoint(name="m")
    endpoint(name="c", model="persona_overlap")
    run = bench_run_create(
        config=bench_config_parse(
            {
                "name": "hand",
                "models": ["m"],
                "critic": "c",
                "methods": ["persona"],
                "items": 4,
                "samples": 2,
                "k": 2,
                "slices": [{"sex": "Male"}],
            }
        )
    )
    BenchItem.objects.filter(run=run).delete()
    personas = bench_data["personas"]
    prompts = bench_data["prompts"]
    layout = [
        (personas[0], prompts[0], ["pass", "pass"]),
        (personas[0], prompts[1], ["pass", "needs_revision"]),
        (personas[1], prompts[0], ["needs_revision", "needs_revision"]),
        (personas[3], prompts[0], ["pass", "invalid"]),
    ]
    for position, (persona, prompt, verdicts) in enumerate(layout):
        item = BenchItem.objects.create(run=run, position=position, persona=persona, prompt=prompt)
        for sample, verdict in enumerate(verdicts):
            BenchAnswer.objects.create(
                run=run,
                item=item,
                endpoint=model,
                method="persona",
                sample=sample,
                answer=f"answer {position}.{sample}",
                verdict=verdict,
                critic_reasoning="because",
            )
    return run


def _login(client: Client, user: Any, password: str) -> None:
    assert client.login(username=user.username, password=password)


def test_results_page_numbers_equal_hand_computation(
    client: Client, analyst: Any, password: str, hand_run: BenchRun
) -> None:
    _login(client, analyst, password)
    response = client.get(reverse("bench-run-detail", args=[hand_run.pk]))
    assert response.status_code == 200
    results = json.loads(client.get(reverse("bench-run-json", args=[hand_run.pk])).content)
    (row,) = results["tables"]["pass_rates"]["rows"]
    # 4 passes of 7 decisive verdicts (the invalid critic reply is no verdict: counted apart), 3 personas.
    assert (row["n"], row["passes"], row["invalid"], row["personas"]) == (7, 4, 1, 3)
    assert row["pass_rate"] == pytest.approx(4 / 7)
    assert row["ci_low"] <= 4 / 7 <= row["ci_high"]
    assert "0.571" in response.content.decode()
    # pass@1 = mean over items of c/n = (1 + 0.5 + 0 + 1)/4; pass@2 = mean of (1, 1, 0) (the last item has n = 1).
    at_k = {r["k"]: r["pass_at_k"] for r in results["tables"]["pass_at_k"]["rows"]}
    assert at_k == {1: pytest.approx(0.625), 2: pytest.approx(2 / 3)}
    # Slice sex = Male: personas 0 and 1 (the fixture's first three are men): 3 passes of 6.
    male = [r for r in results["tables"]["slices"]["rows"] if r["slice"] == "sex = Male"]
    assert male[0]["n"] == 6
    assert male[0]["pass_rate"] == pytest.approx(0.5)
    table = list(
        csv.DictReader(
            io.StringIO(
                client.get(reverse("bench-run-table", args=[hand_run.pk, "pass_rates", "csv"])).content.decode()
            )
        )
    )
    assert table[0]["passes"] == "4"
    for name in ("pass-rates", "pass-at-k"):
        figure = client.get(reverse("bench-run-figure", args=[hand_run.pk, name, "svg"]))
        assert figure.status_code == 200
        assert figure["Content-Type"] == "image/svg+xml"


def test_a_pass_rate_with_no_decisive_verdict_is_undefined_not_zero(
    client: Client, analyst: Any, password: str, hand_run: BenchRun
) -> None:
    BenchAnswer.objects.filter(run=hand_run, sample=0).update(verdict="invalid")
    BenchAnswer.objects.filter(run=hand_run, sample=1).update(verdict="no_answer")
    _login(client, analyst, password)
    results = json.loads(client.get(reverse("bench-run-json", args=[hand_run.pk])).content)
    (row,) = results["tables"]["pass_rates"]["rows"]
    assert (row["n"], row["invalid"], row["no_answer"]) == (0, 4, 4)
    assert (row["pass_rate"], row["ci_low"], row["ci_high"]) == (None, None, None)
    page = client.get(reverse("bench-run-detail", args=[hand_run.pk])).content.decode()
    assert "undefined" in page
    assert "0.000" not in page


def test_results_filter_and_bad_filter(client: Client, analyst: Any, password: str, hand_run: BenchRun) -> None:
    _login(client, analyst, password)
    url = reverse("bench-run-detail", args=[hand_run.pk])
    assert client.get(url, {"filter": "sex=Female"}).status_code == 200
    filtered = json.loads(client.get(reverse("bench-run-json", args=[hand_run.pk]), {"filter": "sex=Female"}).content)
    assert filtered["tables"]["pass_rates"]["rows"][0]["n"] == 1
    bad = client.get(url, {"filter": "shoe size=42"})
    assert bad.status_code == 400
    assert "unknown attribute &#x27;shoe size&#x27;" in bad.content.decode()


def test_items_browser_and_answers_csv(client: Client, analyst: Any, password: str, hand_run: BenchRun) -> None:
    _login(client, analyst, password)
    page = client.get(reverse("bench-run-items", args=[hand_run.pk]), {"verdict": "invalid"})
    assert page.status_code == 200
    assert "answer 3.1" in page.content.decode()
    assert "answer 0.0" not in page.content.decode()
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("bench-run-answers-csv", args=[hand_run.pk])).content.decode()))
    )
    assert len(rows) == 8
    assert rows[0]["critic_reasoning"] == "because"
    women = client.get(reverse("bench-run-items", args=[hand_run.pk]), {"filter": "sex=Female"})
    assert women.context["page"].paginator.count == 2
    assert client.get(reverse("bench-run-items", args=[hand_run.pk]), {"filter": "moon=full"}).status_code == 400
    assert client.get(reverse("bench-run-answers-csv", args=[hand_run.pk]), {"filter": "x"}).status_code == 400


def test_analyst_reads_but_cannot_start(client: Client, analyst: Any, password: str, hand_run: BenchRun) -> None:
    _login(client, analyst, password)
    assert client.get(reverse("bench-run-list")).status_code == 200
    assert client.get(reverse("bench-run-new")).status_code == 403
    assert client.post(reverse("bench-run-cancel", args=[hand_run.pk])).status_code == 403


def test_form_refuses_bad_config_with_names_and_starts_a_good_one(
    client: Client, coordinator: Any, password: str, bench_data: Any, endpoint: Callable
) -> None:
    _login(client, coordinator, password)
    page = client.get(reverse("bench-run-new"))
    assert "gpt-4o" in page.content.decode()  # the paper's config is the default
    bad = client.post(
        reverse("bench-run-new"),
        {
            "config": json.dumps(
                {"name": "x", "models": ["nope"], "critic": "nope2", "methods": ["psychic"], "samples": 2, "k": 3}
            )
        },
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    for name in ("unknown endpoint &#x27;nope&#x27;", "unknown method &#x27;psychic&#x27;", "k = 3 is more"):
        assert name in text
    assert not BenchRun.objects.exists()
    endpoint(name="mine")
    endpoint(name="critic-mine", model="persona_overlap")
    config = json.loads(page.context["config_text"])
    config["items"] = 3
    mapping = "gpt-4o=mine\nclaude-3-5-sonnet=mine, llama-3-70b-instruct=mine\ngpt-4-critic=critic-mine"
    response = client.post(reverse("bench-run-new"), {"config": json.dumps(config), "endpoint_map": mapping})
    run = BenchRun.objects.get()
    assert response.status_code == 302
    assert run.config["models"] == ["mine"]
    assert run.job is not None
    assert run.items.count() == 3


def test_compare_page(client: Client, analyst: Any, password: str, hand_run: BenchRun) -> None:
    other = BenchRun.objects.create(name="other", config=hand_run.config)
    _login(client, analyst, password)
    response = client.get(reverse("bench-compare"), {"runs": [hand_run.pk, other.pk]})
    assert response.status_code == 200
    assert f"#{hand_run.pk} hand" in response.content.decode()
    figure = client.get(reverse("bench-compare-figure", args=["pass-rates", "png"]), {"runs": [hand_run.pk, other.pk]})
    assert figure.status_code == 200
    assert client.get(reverse("bench-compare"), {"runs": [hand_run.pk]}).status_code == 302


def test_api_lists_runs_and_results(client: Client, analyst: Any, password: str, hand_run: BenchRun) -> None:
    _login(client, analyst, password)
    runs = client.get("/api/bench-runs/").json()
    assert runs["results"][0]["name"] == "hand" if "results" in runs else runs[0]["name"] == "hand"
    results = client.get(f"/api/bench-runs/{hand_run.pk}/results/").json()
    assert results["tables"]["pass_rates"]["rows"][0]["passes"] == 4
    assert client.get(f"/api/bench-runs/{hand_run.pk}/results/", {"filter": "planet=Mars"}).status_code == 400
    answers = client.get("/api/bench-answers/", {"run": hand_run.pk, "verdict": Verdict.INVALID}).json()
    items = answers.get("results", answers)
    assert [a["answer"] for a in items] == ["answer 3.1"]


def test_cli_refuses_then_runs_inline(tmp_path: Any, bench_data: Any, endpoint: Callable) -> None:
    from django.core.management import CommandError, call_command

    endpoint(name="mine")
    endpoint_upsert(name="critic-mine", provider=Provider.OFFLINE, model="persona_overlap", concurrency=1)
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "name": "cli",
                "models": ["gpt-x"],
                "critic": "critic-mine",
                "items": 2,
                "methods": ["baseline", "persona"],
                "samples": 2,
                "k": 3,
            }
        )
    )
    with pytest.raises(CommandError) as error:
        call_command("bench", "run", str(path))
    assert "unknown endpoint 'gpt-x'" in str(error.value)
    assert "k = 3 is more than the samples per item n = 2" in str(error.value)
    path.write_text(
        json.dumps(
            {
                "name": "cli",
                "models": ["gpt-x"],
                "critic": "critic-mine",
                "items": 2,
                "methods": ["baseline", "persona"],
                "samples": 2,
                "k": 2,
            }
        )
    )
    out = io.StringIO()
    call_command("bench", "run", str(path), "--endpoint", "gpt-x=mine", "--inline", stdout=out)
    assert "succeeded" in out.getvalue()
    run = BenchRun.objects.get(name="cli")
    assert BenchAnswer.objects.filter(run=run).exclude(verdict=Verdict.PENDING).count() == 2 * 2 * 2


def test_admin_lists_runs_read_only(client: Client, hand_run: BenchRun) -> None:
    from tests.factories import TEST_PASSWORD, UserFactory

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    _login(client, admin_user, TEST_PASSWORD)
    page = client.get("/admin/benchmarks/benchrun/")
    assert page.status_code == 200
    assert reverse("bench-run-detail", args=[hand_run.pk]) in page.content.decode()
    assert client.get("/admin/benchmarks/benchrun/add/").status_code == 403


def test_run_page_answers_its_status_poll_and_refreshes_when_the_job_ends(
    client: Client, analyst: Any, password: str, hand_run: BenchRun
) -> None:
    """One URL per run: the page without htmx; with it, the live status block while the job runs, then a
    client refresh (django-htmx's ``HX-Refresh``) so the page shows the results. The former status address
    redirects to it."""
    _login(client, analyst, password)
    url = reverse("bench-run-detail", args=[hand_run.pk])
    hand_run.job = JobFactory(status=JobStatus.RUNNING, kind=BENCH_RUN_JOB, params={"run_id": hand_run.pk}, total=8)
    hand_run.save(update_fields=["job"])
    page = client.get(url).content.decode()
    assert "<html" in page
    assert f'hx-get="{url}" hx-trigger="every 2s"' in page
    status = client.get(url, headers={"HX-Request": "true"})
    assert status.content.decode().lstrip().startswith('<div id="run-status"')
    assert "HX-Refresh" not in status
    Job.objects.filter(pk=hand_run.job.pk).update(status=JobStatus.SUCCEEDED, done=8)
    ended = client.get(url, headers={"HX-Request": "true"})
    assert ended["HX-Refresh"] == "true"
    assert client.get(f"{url}status/")["Location"] == url
