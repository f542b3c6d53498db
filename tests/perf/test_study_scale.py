"""``bin/perf study_scale`` at a small size: the study pages cost the same number of queries at two sizes, and the
exports' peak memory does not grow with the study (timings are for ``bin/perf``, never for a test)."""

from __future__ import annotations

import random

import pytest
from django.db import IntegrityError, transaction

from annotation import exports
from annotation.models import Answer, Participant, Slot, SlotStatus
from annotation.services import review
from annotation.views import coordinator
from annotation.views import review as review_views
from perf.bench_study_scale import cleanup, raters_fill, study_build, study_measure

pytestmark = pytest.mark.django_db

SMALL, LARGE = 10, 30  # personas; x 4 raters x (10 questions + 1 check)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages and cursor chunks small enough that both sizes fill every page and read many chunks."""
    monkeypatch.setattr(coordinator, "PERSONAS_PER_PAGE", 4)
    monkeypatch.setattr(review_views, "PARTICIPANTS_PER_PAGE", 10)
    monkeypatch.setattr(exports, "EXPORT_CHUNK_ROWS", 25)
    monkeypatch.setattr(review, "MAJORITY_CHUNK_ROWS", 25)


def test_the_bulk_path_writes_what_the_participant_pages_write() -> None:
    study = study_build(personas=SMALL)
    places = Slot.objects.filter(study=study)
    assert places.count() == SMALL * 4
    assert not places.filter(status=SlotStatus.FREE).exists()
    assert Participant.objects.filter(study=study).count() == SMALL * 4
    assert places.filter(status=SlotStatus.RESERVED).count() == SMALL * 4 // 20  # one in 20 half-way through
    submitted = Participant.objects.filter(study=study, status=Participant.Status.SUBMITTED)
    assert Answer.objects.filter(participant__in=submitted).count() == submitted.count() * 11
    assert set(places.filter(holder__in=submitted).values_list("status", flat=True)) == {SlotStatus.COMPLETE}
    with pytest.raises(IntegrityError), transaction.atomic():  # one rater per PID, as participant_enter keeps it
        raters_fill(study=study, rng=random.Random(1))


def test_pages_cost_the_same_queries_and_exports_the_same_memory_at_two_sizes(small_pages: None) -> None:
    small = study_measure(study_build(personas=SMALL), runs=1)
    cleanup()
    large = study_measure(study_build(personas=LARGE), runs=1)
    for name in small:
        assert large[name].queries == small[name].queries, name
    for name in ("answers.csv", "answers.jsonl", "majority.csv"):
        assert large[name].size_bytes > 2.5 * small[name].size_bytes, name
        # Three times the rows; a stream holds a chunk of them, so its peak stays about the same.
        assert large[name].peak_mb <= 1.5 * small[name].peak_mb, (name, small[name], large[name])
