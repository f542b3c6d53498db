"""Row counts of the project's models, shown on the home page and recomputed as a background job."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Model
from django.utils import timezone

from core.models import Statistic

# The apps whose tables the dashboard counts.
COUNTED_APPS = ("auth", "core", "personas", "benchmarks", "annotation")


def countable_models() -> list[type[Model]]:
    models = [m for app in COUNTED_APPS for m in apps.get_app_config(app).get_models()]
    return sorted(models, key=lambda m: m._meta.label)


def statistic_key(model: type[Model]) -> str:
    return f"rows.{model._meta.label_lower}"


def statistic_recompute(*, model: type[Model], job_id: int | None = None) -> Statistic:
    """Count one model's rows and store the count (an upsert keyed by the model, safe to repeat)."""
    statistic, _ = Statistic.objects.update_or_create(
        key=statistic_key(model),
        defaults={
            "label": str(model._meta.verbose_name_plural).capitalize(),
            "value": model._default_manager.count(),
            "job_id": job_id,
            "computed_at": timezone.now(),
        },
    )
    return statistic
