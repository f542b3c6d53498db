from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from benchmarks.models import PreferencePair

pytestmark = pytest.mark.django_db


def test_pairs_import_page(client: Client, coordinator: object) -> None:
    client.force_login(coordinator)
    assert reverse("pairs-import") == "/benchmarks/pairs/import/"
    good = SimpleUploadedFile("pairs.jsonl", b'{"prompt": "p?", "chosen": "yes", "rejected": "no"}\n')
    response = client.post(reverse("pairs-import"), {"file": good}, follow=True)
    assert "Imported 1 new pair" in response.content.decode()
    bad = SimpleUploadedFile("pairs.csv", b"prompt,chosen,rejected\nq?,same,same\n")
    response = client.post(reverse("pairs-import"), {"file": bad})
    assert response.status_code == 200
    assert "identical" in response.content.decode()
    assert PreferencePair.objects.count() == 1


def test_pairs_import_needs_the_permission(client: Client, analyst: object) -> None:
    client.force_login(analyst)
    assert client.get(reverse("pairs-import")).status_code == 403
