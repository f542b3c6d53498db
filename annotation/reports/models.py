"""Stored study reports: a computed report kept while the fingerprint of its inputs holds, each table in its own row
(a table download or a figure reads the table it needs, never the whole report)."""

from __future__ import annotations

from django.db import models


class ReportSnapshot(models.Model):
    """A computed report for one scope, e.g. ``"study:12"``, valid while its inputs' fingerprint holds. ``data`` is
    the report without its tables (summary, kappa matrices, the names of its tables); the tables are
    ``ReportTable`` rows."""

    scope = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope"]

    def __str__(self) -> str:
        return f"{self.scope} @ {self.fingerprint[:8]}"


class ReportTable(models.Model):
    """One table of a stored report (``{"title", "columns", "rows", "note"}``)."""

    snapshot = models.ForeignKey(ReportSnapshot, on_delete=models.CASCADE, related_name="tables")
    name = models.CharField(max_length=64)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["snapshot", "name"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "name"], name="report_table_unique")]

    def __str__(self) -> str:
        return f"{self.snapshot.scope}: {self.name}"
