"""Stored study reports: a computed report (JSON) kept while the fingerprint of its inputs holds."""

from __future__ import annotations

from django.db import models


class ReportSnapshot(models.Model):
    """A computed report for one scope, e.g. ``"study:12"``, valid while its inputs' fingerprint holds."""

    scope = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope"]

    def __str__(self) -> str:
        return f"{self.scope} @ {self.fingerprint[:8]}"
