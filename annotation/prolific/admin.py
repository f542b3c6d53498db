"""Admin for Prolific's side of a study, for support: find a wave, a submission or a webhook event by its Prolific id
and read what we hold. Nothing is added or edited here: waves are started from the study page, and every other
field is Prolific's answer or a claim the services set before a call (editing one could send a call twice)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from annotation.prolific.models import ProlificEvent, ProlificSubmission, ProlificWave
from core.admin_base import ReadOnlyAdmin


class RecordAdmin(ReadOnlyAdmin):
    """Read-only and kept: deleting a wave or a submission would forget that an approval, a rejection or a place
    was already sent, and the next sync would act again."""

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ProlificWave)
class ProlificWaveAdmin(RecordAdmin):
    list_display = (
        "id",
        "study",
        "number",
        "state",
        "prolific_study_id",
        "prolific_status",
        "places_asked",
        "places_prolific",
        "cost_cents",
        "last_synced_at",
        "last_error_at",
        "submissions_link",
    )
    list_filter = ("state", "prolific_status", ("study", admin.RelatedOnlyFieldListFilter))
    search_fields = ("prolific_study_id", "exclusion_group_id", "study__name")
    list_select_related = ("study",)
    fieldsets = (
        (
            "Our wave",
            {
                "fields": (
                    "study",
                    "number",
                    "internal_name",
                    "state",
                    "reward_cents",
                    "estimated_minutes",
                    "places_asked",
                    "created_at",
                    "published_at",
                )
            },
        ),
        (
            "Prolific's study, as last read",
            {
                "fields": (
                    "prolific_study_id",
                    "prolific_status",
                    "places_prolific",
                    "cost_cents",
                    "exclusion_group_id",
                    "excluded_count",
                    "last_synced_at",
                    "submissions_link",
                )
            },
        ),
        ("The last call", {"fields": ("last_error", "last_error_at")}),
    )
    readonly_fields = ("internal_name", "created_at", "submissions_link")

    @admin.display(description="internal name (our key on Prolific)")
    def internal_name(self, wave: ProlificWave) -> str:
        return wave.internal_name

    @admin.display(description="submissions")
    def submissions_link(self, wave: ProlificWave) -> str:
        url = reverse("admin:annotation_prolificsubmission_changelist")
        return format_html('<a href="{}?wave__id__exact={}">submissions</a>', url, wave.pk)


@admin.register(ProlificSubmission)
class ProlificSubmissionAdmin(RecordAdmin):
    list_display = (
        "submission_id",
        "participant_id",
        "status",
        "wave",
        "updated_at",
        "approve_sent_at",
        "reject_sent_at",
        "place_added_at",
    )
    list_filter = ("status", ("wave__study", admin.RelatedOnlyFieldListFilter))
    search_fields = ("submission_id", "participant_id", "wave__prolific_study_id")
    list_select_related = ("wave",)


@admin.register(ProlificEvent)
class ProlificEventAdmin(ReadOnlyAdmin):
    """Webhook deliveries already applied; deletable (a replay changes nothing twice), and the sync forgets them after
    two days anyway."""

    list_display = ("event_id", "event_type", "received_at")
    list_filter = ("event_type",)
    search_fields = ("event_id",)
