"""What we keep of Prolific's side of a study: one row per wave (a Prolific study), one per submission, and the
webhook events already applied (by ``X-Event-ID``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# Prolific's submission statuses (SubmissionStatus, with spaces) ranked by how far along they are: a status only
# ever replaces one of a lower rank, so a late or repeated event never moves a submission back.
SUBMISSION_RANK = {
    "RESERVED": 0,
    "ACTIVE": 1,
    "AWAITING REVIEW": 2,
    "RETURNED": 2,
    "TIMED-OUT": 2,
    "APPROVED": 3,
    "REJECTED": 3,
    "SCREENED OUT": 3,
}
# Statuses that hold one of Prolific's places (a RETURNED, TIMED-OUT or REJECTED submission gives it back).
PLACE_HOLDING = ("RESERVED", "ACTIVE", "AWAITING REVIEW", "APPROVED", "SCREENED OUT")
REJECTION_CATEGORIES = [
    ("TOO_QUICKLY", "Too quickly"),
    ("TOO_SLOWLY", "Too slowly"),
    ("FAILED_INSTRUCTIONS", "Failed instructions"),
    ("INCOMP_LONGITUDINAL", "Incomplete longitudinal"),
    ("FAILED_CHECK", "Failed attention check"),
    ("LOW_EFFORT", "Low effort"),
    ("MALINGERING", "Malingering"),
    ("NO_CODE", "No code"),
    ("BAD_CODE", "Bad code"),
    ("NO_DATA", "No data"),
    ("UNSUPP_DEVICE", "Unsupported device"),
    ("OTHER", "Other"),
]
REJECTION_MESSAGE_MIN_CHARS = 100


class ProlificWave(models.Model):
    """One Prolific study recruiting for our study. Wave 2 onwards exclude earlier waves' participants through a
    participant group and a ``participant_group_blocklist`` filter set before publishing."""

    class State(models.TextChoices):
        CREATING = "creating", "Creating the draft"
        DRAFT = "draft", "Draft on Prolific"
        PUBLISHED = "published", "Published"
        CHECK = "check", "Outcome unclear — check on Prolific"

    study = models.ForeignKey("annotation.Study", on_delete=models.CASCADE, related_name="prolific_waves")
    number = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.CREATING)
    prolific_study_id = models.CharField(max_length=64, blank=True)
    prolific_status = models.CharField(max_length=24, blank=True)  # Prolific's StudyStatus, as last read
    reward_cents = models.PositiveIntegerField()
    estimated_minutes = models.PositiveSmallIntegerField()
    places_asked = models.PositiveIntegerField()  # what we last asked Prolific for
    places_prolific = models.PositiveIntegerField(null=True, blank=True)  # what Prolific reports
    cost_cents = models.PositiveIntegerField(null=True, blank=True)  # Prolific's cost calculator, before publishing
    exclusion_group_id = models.CharField(max_length=64, blank=True)
    excluded_count = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # the last call's failure ("" once a call succeeds)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="prolific_wave_unique_number"),
            models.UniqueConstraint(
                fields=["prolific_study_id"], condition=~Q(prolific_study_id=""), name="prolific_wave_unique_study"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["creating", "draft", "published", "check"]), name="prolific_wave_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Wave {self.number} of {self.study_id}"

    @property
    def internal_name(self) -> str:
        """Our key for the Prolific study: a create whose answer was lost is found again by it."""
        return f"persona-lab {self.study.public_id} wave {self.number}"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class ProlificSubmission(models.Model):
    wave = models.ForeignKey(ProlificWave, on_delete=models.CASCADE, related_name="submissions")
    submission_id = models.CharField(max_length=64, unique=True)
    participant_id = models.CharField(max_length=64)
    status = models.CharField(max_length=24)
    updated_at = models.DateTimeField(auto_now=True)
    # Set by a conditional UPDATE before the call, so a double click or a replay never sends it twice.
    approve_sent_at = models.DateTimeField(null=True, blank=True)
    reject_sent_at = models.DateTimeField(null=True, blank=True)
    reject_category = models.CharField(max_length=24, blank=True)
    reject_message = models.TextField(blank=True)
    # Set when a rejection's place was added back to our study (once).
    place_added_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wave", "id"]
        indexes = [models.Index(fields=["participant_id"], name="prolific_sub_participant_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id} ({self.status})"

    @property
    def holds_place(self) -> bool:
        return self.status in PLACE_HOLDING


class ProlificEvent(models.Model):
    """A webhook delivery already applied: Prolific retries for a day with the same ``X-Event-ID``."""

    event_id = models.CharField(max_length=128, unique=True)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.event_id
