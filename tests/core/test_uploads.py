from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core.uploads import MAX_ERRORS_REPORTED, FileRefusedError, name_unique


def test_a_refused_file_shows_the_first_errors_and_counts_the_rest() -> None:
    errors = [f"line {n}: bad" for n in range(1, MAX_ERRORS_REPORTED + 4)]
    refused = FileRefusedError(errors)
    assert refused.errors == errors
    assert str(refused).startswith("line 1: bad; line 2: bad")
    assert str(refused).endswith(f"line {MAX_ERRORS_REPORTED}: bad (and 3 more)")
    assert str(FileRefusedError(["the file holds no pairs"])) == "the file holds no pairs"


@pytest.mark.django_db
def test_name_unique_appends_the_first_free_number() -> None:
    groups = Group.objects.filter(name__startswith="Upload")
    assert name_unique(queryset=groups, name="Upload") == "Upload"
    Group.objects.bulk_create([Group(name="Upload"), Group(name="Upload (2)"), Group(name="Uploads")])
    assert name_unique(queryset=groups, name="Upload") == "Upload (3)"
    assert name_unique(queryset=groups.exclude(name="Upload (2)"), name="Upload") == "Upload (2)"
