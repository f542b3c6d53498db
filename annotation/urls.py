from __future__ import annotations

from django.urls import path

from annotation.views import participant

urlpatterns = [
    # Participant pages (anonymous; the study's public UUID, never a guessable number).
    path("s/<uuid:study_id>/", participant.entry, name="participant-entry"),
    path("s/<uuid:study_id>/instructions/", participant.instructions, name="participant-instructions"),
    path("s/<uuid:study_id>/persona/", participant.persona, name="participant-persona"),
    path("s/<uuid:study_id>/q/<int:position>/", participant.question, name="participant-question"),
    path("s/<uuid:study_id>/finish/", participant.finish, name="participant-finish"),
    path("s/<uuid:study_id>/submit/", participant.submit, name="participant-submit"),
    path("s/<uuid:study_id>/done/", participant.done, name="participant-done"),
]
