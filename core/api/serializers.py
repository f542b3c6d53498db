from __future__ import annotations

from rest_framework import serializers

from core.models import Job


class JobSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "label",
            "params",
            "status",
            "total",
            "done",
            "failed",
            "percent",
            "input_tokens",
            "output_tokens",
            "cost_usd",
            "error",
            "attempts",
            "started_by",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields
