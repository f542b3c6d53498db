from __future__ import annotations

from django.contrib import admin

# Sub-packages keep their admin beside their models; importing it here registers it (as annotation.models does).
import annotation.prolific.admin
import annotation.reports.admin  # noqa: F401
from annotation.models import Answer, BonusPayment, Participant, Question, Slot, Study, StudyPersona


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "status", "raters_per_persona", "majority_threshold", "created_at"]
    list_filter = ["status"]
    search_fields = ["name"]
    readonly_fields = ["public_id", "created_at", "launched_at", "closed_at"]


@admin.register(StudyPersona)
class StudyPersonaAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "persona", "position"]
    raw_id_fields = ["study", "persona"]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    """Read-only: slots change only through the claim/release services, which keep exact-k."""

    list_display = ["id", "study", "study_persona", "index", "status", "holder", "reserved_at"]
    list_filter = ["status"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["id", "study_persona", "position", "kind", "pair"]
    list_filter = ["kind"]
    raw_id_fields = ["study_persona", "pair"]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "prolific_pid", "status", "review", "is_preview", "entered_at", "submitted_at"]
    list_filter = ["status", "review", "is_preview"]
    search_fields = ["prolific_pid", "prolific_session_id"]
    raw_id_fields = ["study", "study_persona"]

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # A participant holding a slot is released from the study console; deleting would break exact-k.
        return False


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    list_display = ["id", "participant", "question", "order_shown", "choice", "time_ms", "revisions", "pasted"]
    list_filter = ["choice", "pasted"]
    raw_id_fields = ["participant", "question"]


@admin.register(BonusPayment)
class BonusPaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "total", "status", "prolific_id", "created_at", "paid_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "prolific_id", "error", "pay_requested_at", "paid_at"]
