"""Analysts read and export only: every URL that accepts a POST refuses an analyst (the role walk)."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from core.roles import ANALYST, roles_sync
from tests.annotation.factories import participant_complete, study_make
from tests.factories import JobFactory

# POSTs an analyst may make, each for a reason: their own session, or pages open to anyone.
ALLOWED = {
    "/accounts/logout/": "logging out",
    "/accounts/login/": "logging in",
    "/accounts/password_change/": "their own password",
    "/accounts/password_reset/": "public",
}
# Starting an export is an analyst's right ("read and export"): it writes a file for download, nothing else.
EXPORTS = re.compile(r"^/benchmarks/datasets/\d+/export/$")
# Participant pages and the Prolific webhook are public; the API is read-only (405); the admin sends non-staff users
# (analysts) to its login page.
PUBLIC_PREFIXES = ("/s/", "/api/", "/admin/", "/accounts/reset/", "/studies/webhooks/")


def _paths(resolver: URLResolver, prefix: str = "", ids: dict[str, int] | None = None) -> list[str]:
    """Every URL pattern as a path, each id argument filled from ``ids`` (else 1), others with a placeholder."""
    ids = ids or {}
    paths = []
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            paths.extend(_paths(entry, pattern, ids))
        elif isinstance(entry, URLPattern):
            paths.append(pattern)
    filled = set()
    for path in paths:
        path = re.sub(r"<int:(\w+)>", lambda m: str(ids.get(m.group(1), 1)), path)
        path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000001", path)
        path = re.sub(r"<(?:str|slug|path):?\w*>", "x", path)
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
        if not re.search(r"[\\\[\](){}*+?|]", path):
            filled.add(re.sub(r"/+", "/", "/" + path.replace("\\.", ".")))
    return sorted(filled)


@pytest.mark.django_db
def test_every_post_is_refused_to_an_analyst(client: Client, analyst: object) -> None:
    study = study_make()
    participant = participant_complete(study, "walk1")
    ids = {
        "study_id": study.pk,
        "participant_id": participant.pk,
        "entry_id": participant.study_persona_id,
        "job_id": JobFactory().pk,
    }
    client.force_login(analyst)
    walked = []
    for path in _paths(get_resolver(), ids=ids):
        if path in ALLOWED or path.startswith(PUBLIC_PREFIXES) or EXPORTS.match(path):
            continue
        response = client.post(path, {})
        if response.status_code == 405:  # the URL takes no POST at all
            continue
        walked.append(path)
        assert response.status_code == 403, f"POST {path} as analyst: {response.status_code}"
    assert len(walked) >= 15, walked


@pytest.mark.django_db
def test_analysts_lose_the_stale_add_judgment_and_roles_sync_does_not_give_it_back() -> None:
    analyst = Group.objects.get(name=ANALYST)
    add_judgment = Permission.objects.get(content_type__app_label="benchmarks", codename="add_judgment")
    analyst.permissions.add(add_judgment)  # what a deployment set up before still has
    held = set(analyst.permissions.values_list("pk", flat=True))

    migration = importlib.import_module("core.migrations.0004_analyst_without_add_judgment")
    migration.analyst_add_judgment_revoke(apps, None)
    roles_sync()
    roles_sync()

    assert set(analyst.permissions.values_list("pk", flat=True)) == held - {add_judgment.pk}
    assert analyst.permissions.filter(codename="view_judgment").exists()  # reading judgments stays
