from __future__ import annotations

from django.urls import include, path

from annotation.views import (
    bonuses,
    builder,
    coordinator,
    datasets,
    exports,
    participant,
    precision,
    prolific,
    review,
)
from core.htmx import moved_to

urlpatterns = [
    # Participant pages (anonymous; the study's public UUID, never a guessable number).
    path("s/<uuid:study_id>/", participant.entry, name="participant-entry"),
    path("s/<uuid:study_id>/instructions/", participant.instructions, name="participant-instructions"),
    path("s/<uuid:study_id>/persona/", participant.persona, name="participant-persona"),
    path("s/<uuid:study_id>/q/<int:position>/", participant.question, name="participant-question"),
    path("s/<uuid:study_id>/finish/", participant.finish, name="participant-finish"),
    path("s/<uuid:study_id>/submit/", participant.submit, name="participant-submit"),
    path("s/<uuid:study_id>/done/", participant.done, name="participant-done"),
    # Coordinator console.
    path("studies/", coordinator.study_list, name="study-list"),
    path("studies/new/", builder.study_create_view, name="study-create"),
    path("studies/new/preview/", builder.study_selection_preview, name="study-selection-preview"),
    path("studies/new/personas/", builder.persona_search, name="study-persona-search"),
    path("studies/from-dataset/<int:dataset_id>/", datasets.study_from_dataset, name="study-from-dataset"),
    path("studies/webhooks/prolific/", review.prolific_webhook, name="prolific-webhook"),
    path("studies/<int:study_id>/", coordinator.study_detail, name="study-detail"),
    path("studies/<int:study_id>/edit/", builder.study_edit_view, name="study-edit"),
    # The former address of the dashboard partial (the study page answers htmx now), kept for open tabs.
    path("studies/<int:study_id>/dashboard/", moved_to("study-detail")),
    path("studies/<int:study_id>/action/", coordinator.study_action, name="study-action"),
    path("studies/<int:study_id>/preview/", coordinator.study_preview, name="study-preview"),
    path("studies/<int:study_id>/personas/<int:entry_id>/slots/", coordinator.study_slot_add, name="study-slot-add"),
    path("studies/<int:study_id>/precision/", precision.precision_plan_view, name="study-precision"),
    path("studies/<int:study_id>/precision/running/", precision.precision_running_view, name="study-precision-running"),
    path("studies/<int:study_id>/precision/add/", precision.precision_add_view, name="study-precision-add"),
    path("studies/<int:study_id>/participants/", review.participant_list, name="study-participants"),
    path(
        "studies/<int:study_id>/participants/<int:participant_id>/",
        review.participant_detail,
        name="study-participant",
    ),
    path(
        "studies/<int:study_id>/participants/<int:participant_id>/session-reset/",
        review.participant_session_reset_view,
        name="study-participant-session-reset",
    ),
    path(
        "studies/<int:study_id>/participants/<int:participant_id>/release/",
        review.participant_release_view,
        name="study-participant-release",
    ),
    path("studies/<int:study_id>/returns/", review.returns_upload, name="study-returns"),
    path("studies/<int:study_id>/export/<str:name>", exports.study_export, name="study-export"),
    path("studies/<int:study_id>/bonuses/", bonuses.bonuses, name="study-bonuses"),
    path("studies/<int:study_id>/bonuses/bulk.csv", bonuses.bonuses_csv, name="study-bonuses-csv"),
    path("studies/<int:study_id>/bonuses/setup/", bonuses.bonus_payment_setup_view, name="study-bonus-setup"),
    path(
        "studies/<int:study_id>/bonuses/<int:payment_id>/pay/", bonuses.bonus_payment_pay_view, name="study-bonus-pay"
    ),
    path("studies/<int:study_id>/report/", include("annotation.reports.urls")),
    path("studies/<int:study_id>/prolific/waves/", prolific.prolific_wave_create, name="prolific-wave-create"),
    path(
        "studies/<int:study_id>/prolific/waves/<int:wave_id>/publish/",
        prolific.prolific_wave_publish,
        name="prolific-wave-publish",
    ),
    path("studies/<int:study_id>/prolific/sync/", prolific.prolific_sync_view, name="prolific-sync"),
    path("studies/<int:study_id>/prolific/approve/", prolific.prolific_approve, name="prolific-approve"),
    path(
        "studies/<int:study_id>/prolific/reject/<int:participant_id>/",
        prolific.prolific_reject,
        name="prolific-reject",
    ),
    path(
        "studies/<int:study_id>/bonuses/<int:payment_id>/resolve/",
        bonuses.bonus_payment_resolve_view,
        name="study-bonus-resolve",
    ),
]
