"""Annotation job kinds (discovered by core): the study report job."""

from __future__ import annotations

from annotation.reports.services import REPORT_JOB, report_job_run
from core.jobs import register_job_kind

register_job_kind(REPORT_JOB, label="Compute a study report")(report_job_run)
