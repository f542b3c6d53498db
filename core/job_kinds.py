from __future__ import annotations

from core.jobs import JobRun, register_job_kind
from core.models import Statistic
from core.statistics import countable_models, statistic_key, statistic_recompute


@register_job_kind("core.recompute_statistics", label="Recompute statistics", start_permission="core.add_job")
def recompute_statistics(run: JobRun) -> None:
    models = countable_models()
    # A re-run keeps what this job already counted and does only the rest.
    already = set(Statistic.objects.filter(job_id=run.job.pk).values_list("key", flat=True))
    run.set_total(len(models), already_done=len(already))
    for model in models:
        if statistic_key(model) in already:
            continue
        statistic_recompute(model=model, job_id=run.job.pk)
        run.advance()
