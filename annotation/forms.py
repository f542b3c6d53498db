from __future__ import annotations

from django import forms

from annotation.models import REASONING_HARD_CAP
from annotation.services.study import ATTENTION_ITEMS, DEFAULT_INSTRUCTIONS, StudySettings
from personas.models import Persona, PersonaSplit, PersonaStatus

CODE_HELP = "Leave empty to generate one."


class StudyForm(forms.Form):
    name = forms.CharField(max_length=200)
    personas = forms.ModelMultipleChoiceField(
        queryset=Persona.objects.order_by("id"),
        required=False,
        help_text="Pick personas, or leave empty to use all personas that match the filters below.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    persona_status = forms.ChoiceField(choices=[("", "Any status"), *PersonaStatus.choices], required=False)
    persona_split = forms.ChoiceField(choices=[("", "Any split"), *PersonaSplit.choices], required=False)
    sample_size = forms.IntegerField(
        min_value=1, required=False, help_text="Sample this many of the matching personas (seeded)."
    )
    pairs_per_persona = forms.IntegerField(min_value=1, max_value=200, initial=10, label="Questions per persona")
    raters_per_persona = forms.IntegerField(min_value=1, max_value=50, initial=4, label="Raters per persona (k)")
    majority_threshold = forms.IntegerField(min_value=1, max_value=50, initial=3)
    attention_checks = forms.IntegerField(min_value=0, max_value=len(ATTENTION_ITEMS), initial=1)
    reasoning_min_chars = forms.IntegerField(min_value=0, max_value=REASONING_HARD_CAP, initial=30)
    reasoning_max_chars = forms.IntegerField(min_value=1, max_value=REASONING_HARD_CAP, initial=1500)
    block_paste = forms.BooleanField(required=False, help_text="Refuse pastes into the reasoning box (else: flag).")
    estimated_minutes = forms.IntegerField(min_value=1, max_value=600, initial=20)
    max_minutes_override = forms.IntegerField(
        min_value=1, max_value=1440, required=False, label="Maximum minutes", help_text="Empty: 2 + X + 2√X."
    )
    seed = forms.IntegerField(initial=0, help_text="Seeds persona sampling and pair sampling.")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), initial=DEFAULT_INSTRUCTIONS)
    completion_code = forms.CharField(max_length=32, required=False, help_text=CODE_HELP)
    failed_check_code = forms.CharField(max_length=32, required=False, help_text=CODE_HELP)
    no_place_code = forms.CharField(max_length=32, required=False, help_text=CODE_HELP)

    def clean(self) -> dict:
        data = super().clean()
        k, majority = data.get("raters_per_persona"), data.get("majority_threshold")
        if k and majority and majority > k:
            self.add_error("majority_threshold", "The majority cannot exceed the raters per persona.")
        low, high = data.get("reasoning_min_chars"), data.get("reasoning_max_chars")
        if low is not None and high is not None and low > high:
            self.add_error("reasoning_max_chars", "The maximum must be at least the minimum.")
        return data

    def settings(self) -> StudySettings:
        data = self.cleaned_data
        return StudySettings(
            name=data["name"],
            pairs_per_persona=data["pairs_per_persona"],
            raters_per_persona=data["raters_per_persona"],
            majority_threshold=data["majority_threshold"],
            attention_checks=data["attention_checks"],
            reasoning_min_chars=data["reasoning_min_chars"],
            reasoning_max_chars=data["reasoning_max_chars"],
            block_paste=data["block_paste"],
            estimated_minutes=data["estimated_minutes"],
            max_minutes_override=data["max_minutes_override"],
            instructions=data["instructions"],
            completion_code=data["completion_code"],
            failed_check_code=data["failed_check_code"],
            no_place_code=data["no_place_code"],
            seed=data["seed"],
        )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("excluded", "Exclude"), ("pending", "Undo")])
    note = forms.CharField(max_length=2000, required=False)


class ReturnsUploadForm(forms.Form):
    file = forms.FileField(help_text="Prolific's submissions export (CSV).")


class BonusForm(forms.Form):
    amount = forms.DecimalField(min_value=0, max_value=100, decimal_places=2, required=False)
