from __future__ import annotations

from django import forms


class PairsUploadForm(forms.Form):
    file = forms.FileField(
        label="Pairs file", help_text="JSONL or CSV: prompt, chosen, rejected; optional persona (public id), topic."
    )
