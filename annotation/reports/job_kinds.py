"""Registered by ``benchmarks.job_kinds`` (which discovers every app's ``reports.job_kinds``): the report job and
the report demo step."""

from __future__ import annotations

from annotation.reports.demo import report_demo_defer
from annotation.reports.services import REPORT_JOB, report_job_run
from core.demo import DEMO_STEPS
from core.jobs import register_job_kind

register_job_kind(REPORT_JOB, label="Compute a study report")(report_job_run)

# Registered before the personas and annotation steps; it defers the real work to the end (see reports/demo.py).
if report_demo_defer not in DEMO_STEPS:
    DEMO_STEPS.append(report_demo_defer)
