"""Registered by ``benchmarks.job_kinds`` (which discovers every app's ``reports.job_kinds``): the report job and
the report demo step."""

from __future__ import annotations

from annotation.reports.demo import report_demo_ensure
from annotation.reports.services import REPORT_JOB, report_job_run
from core.demo import DEMO_STEPS
from core.jobs import register_job_kind

register_job_kind(REPORT_JOB, label="Compute a study report")(report_job_run)

# Runs before annotation's own demo step (apps register in INSTALLED_APPS order); it makes its own study.
if report_demo_ensure not in DEMO_STEPS:
    DEMO_STEPS.append(report_demo_ensure)
