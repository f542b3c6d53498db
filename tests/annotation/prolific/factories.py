"""Prolific rows as the services leave them, for tests that only read them (the admin); a round against the fake
server writes them the real way."""

from __future__ import annotations

import factory

from annotation.prolific.models import ProlificEvent, ProlificSubmission, ProlificWave
from tests.annotation.factories import study_make


class ProlificWaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProlificWave

    study = factory.LazyFunction(lambda: study_make(personas=1, k=2))
    number = 1
    state = ProlificWave.State.PUBLISHED
    prolific_study_id = factory.Sequence(lambda n: f"60a1b2c3d4e5f6a7b8c9{n:04d}")
    prolific_status = "ACTIVE"
    reward_cents = 150
    estimated_minutes = 10
    places_asked = 2
    places_prolific = 2
    cost_cents = 420


class ProlificSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProlificSubmission

    wave = factory.SubFactory(ProlificWaveFactory)
    submission_id = factory.Sequence(lambda n: f"sub{n:021d}")
    participant_id = factory.Sequence(lambda n: f"pid{n:021d}")
    status = "AWAITING REVIEW"


class ProlificEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProlificEvent

    event_id = factory.Sequence(lambda n: f"evt-{n}")
    event_type = "submission.status.change"
