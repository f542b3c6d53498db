from __future__ import annotations

from django import forms

from benchmarks.prompts.topics import PAPER_HELDOUT, PAPER_TRAIN
from core.llm.models import ModelEndpoint


class PromptImportForm(forms.Form):
    file = forms.FileField(
        help_text="PRISM conversations.jsonl, PRISM's opening-prompt cluster CSV, or a CSV / JSONL with a "
        "`prompt` (or `text`) column."
    )


class ClassifyForm(forms.Form):
    endpoint = forms.ModelChoiceField(queryset=ModelEndpoint.objects.order_by("name"), label="Classifier endpoint")


class TopicsSplitForm(forms.Form):
    clusters = forms.IntegerField(min_value=1, max_value=500, initial=20, help_text="k for prompts without a topic.")
    heldout = forms.IntegerField(
        min_value=0,
        required=False,
        label="Held-out prompts",
        help_text=f"Blank = the paper's share ({PAPER_TRAIN:,} : {PAPER_HELDOUT})",
    )
    seed = forms.IntegerField(initial=0)
