"""The OpenAPI schema tells the truth: schemathesis fuzzes every endpoint of the live app against it.

For an analyst token and a coordinator token (they see different fields): no 5xx, every response matches the
status codes, content types and bodies the schema documents. The number of examples is bounded to keep CI short.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from annotation.reports.services import report_refresh
from tests.annotation.factories import study_make
from tests.annotation.reports.conftest import HUMANS, judge_store, rater_complete
from tests.factories import JobFactory, UserFactory

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
MAX_EXAMPLES = 10


def _seed() -> None:
    """A study with raters, a judge and a computed report; a persona-independent pair; a finished and a queued job."""
    study = study_make(personas=1, k=3, n=4, checks=1)
    for pid, picks in HUMANS.items():
        rater_complete(study, pid, picks)
    judge_store(study)
    report_refresh(study=study)
    study_make(personas=1, k=1, n=2, checks=0, launch=False)  # no participants: an empty report
    JobFactory(status="succeeded", started_by=None)
    JobFactory()


@pytest.mark.parametrize("role", ["Analyst", "Coordinator"])
def test_api_matches_its_schema(live_server, transactional_db, role, tmp_path: Path) -> None:
    _seed()
    token = Token.objects.create(user=UserFactory(groups=[role]))
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{live_server.url}/api/schema/",
            "--checks",
            CHECKS,
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            "12",
            "--workers",
            "2",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-shrink",
            "--generation-database",
            "none",
            "--header",
            f"Authorization: Token {token.key}",
            "--request-timeout",
            "30",
            "--suppress-health-check",
            "all",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert report.exists()
    assert json.loads(report.read_text())
