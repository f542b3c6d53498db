from __future__ import annotations

from typing import Any

from django import forms

from benchmarks.datasets.models import PersonaScope, PreferenceDataset
from benchmarks.judging.models import Judge
from benchmarks.pairs.models import PairSplit
from core.llm.models import ModelEndpoint
from personas.attributes import ATTRIBUTES


class DatasetForm(forms.ModelForm):
    persona_key = forms.ChoiceField(
        label="Persona filter: attribute",
        required=False,
        choices=[("", "—"), *((a.key, a.label) for a in ATTRIBUTES)],
        help_text="With “consistent personas matching a filter”.",
    )
    persona_value = forms.CharField(label="contains", required=False, max_length=200)
    topics = forms.CharField(
        label="Prompt topics", required=False, help_text="Comma-separated; blank = every kept prompt."
    )

    class Meta:
        model = PreferenceDataset
        fields = [
            "name",
            "description",
            "persona_scope",
            "train_per_persona",
            "test_seen_per_persona",
            "test_unseen_per_persona",
            "generator",
            "verifier",
            "seed",
            "answer_per_pair",
            "length_tolerance",
            "use_batch",
            "verify_sample",
        ]
        labels = {
            "train_per_persona": "train pairs per persona (train prompts)",
            "test_seen_per_persona": "test_seen pairs per persona (train prompts)",
            "test_unseen_per_persona": "test_unseen pairs per persona (held-out prompts)",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["generator"].queryset = ModelEndpoint.objects.order_by("name")
        self.fields["generator"].required = True
        self.fields["verifier"].queryset = Judge.objects.select_related("endpoint").order_by("name")
        self.fields["persona_scope"].choices = PersonaScope.choices

    def clean(self) -> dict:
        data = super().clean()
        if data.get("persona_scope") == PersonaScope.FILTER and not data.get("persona_key"):
            self.add_error("persona_key", "Pick the attribute to filter on.")
        return data

    def save(self, commit: bool = True) -> PreferenceDataset:
        dataset = super().save(commit=False)
        key, value = self.cleaned_data.get("persona_key"), self.cleaned_data.get("persona_value", "").strip()
        dataset.persona_filter = {"key": key, "value": value} if key else {}
        dataset.prompt_topics = [t.strip() for t in self.cleaned_data.get("topics", "").split(",") if t.strip()]
        if commit:
            dataset.save()
        return dataset


class DatasetImportForm(forms.Form):
    name = forms.SlugField(max_length=80)
    file = forms.FileField(help_text="Parquet, JSONL or CSV with persona, instruction, original, critique, data.")


class DatasetStudyForm(forms.Form):
    """A study whose persona x pair selection is one split of this dataset."""

    name = forms.CharField(max_length=200)
    split = forms.ChoiceField(choices=PairSplit.choices, initial=PairSplit.TEST_SEEN)
    pairs_per_persona = forms.IntegerField(min_value=1, initial=5)
    personas = forms.IntegerField(
        label="Personas", min_value=1, required=False, help_text="A seeded sample of this many; blank = all."
    )
    raters_per_persona = forms.IntegerField(min_value=1, initial=4)
    majority_threshold = forms.IntegerField(min_value=1, initial=3)
    seed = forms.IntegerField(initial=0)


class DatasetJudgeForm(forms.Form):
    judge = forms.ModelChoiceField(queryset=Judge.objects.order_by("name"))
    split = forms.ChoiceField(choices=PairSplit.choices, initial=PairSplit.TEST_SEEN)
