from __future__ import annotations

import time
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.models import Job

TEST_PASSWORD = "a-long-test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        for name in extracted or []:
            self.groups.add(Group.objects.get(name=name))


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "core.recompute_statistics"
    params = factory.Sequence(lambda n: {"n": n})
    dedupe_key = factory.Sequence(lambda n: f"key-{n}")


def wait_for(job: Job, statuses: set[str], timeout: float = 60) -> Job:
    """Poll the job until a real worker has moved it to one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job.pk} still {job.status} after {timeout}s (wanted {statuses}): {job.error}")
