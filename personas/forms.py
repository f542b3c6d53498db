from __future__ import annotations

from typing import Any

from django import forms

from core.llm.models import ModelEndpoint, Provider
from personas.attributes import ATTRIBUTES
from personas.models import CensusDataset, PersonaSource, PersonaSplit, PersonaStatus

PERSONA_COUNT_DEFAULT = 1586  # the PERSONA dataset's size before pruning


# Offline endpoints that can stand in for a model at a task (marked as such); the others cannot do it at all. No
# offline baseline can judge a persona's plausibility: a "verdict" from one is a seeded random pick.
OFFLINE_ABLE = {"check": frozenset(), "enrich": frozenset({"text"})}


def llm_endpoint_choices(*, task: str) -> list[tuple[str, str]]:
    """The configured LLM endpoints able to do ``task`` ("check" or "enrich"); offline stand-ins say so."""
    choices = []
    for endpoint in ModelEndpoint.objects.order_by("name"):
        if endpoint.provider != Provider.OFFLINE:
            choices.append((str(endpoint.pk), f"{endpoint.name} ({endpoint.model})"))
        elif endpoint.model in OFFLINE_ABLE[task]:
            choices.append((str(endpoint.pk), f"{endpoint.name} (offline placeholder text, no model)"))
    return choices


class PumsImportForm(forms.Form):
    person_file = forms.FileField(help_text="psam_pXX.csv or the Census zip (csv_pXX.zip)")
    housing_file = forms.FileField(required=False, help_text="Optional: psam_hXX.csv or its zip, joined on SERIALNO")
    dictionary_file = forms.FileField(help_text="PUMS_Data_Dictionary_YYYY.csv of the same survey year")
    name = forms.CharField(
        max_length=200, required=False, help_text="Defaults to 'ACS <year> PUMS <state>' (numbered when taken)"
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name and CensusDataset.objects.filter(name=name).exists():
            raise forms.ValidationError("A dataset with this name exists; pick another name, or leave it blank.")
        return name


class GenerateForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=CensusDataset.objects.all())
    n = forms.IntegerField(label="Number of personas", min_value=1, max_value=100_000, initial=PERSONA_COUNT_DEFAULT)
    seed = forms.IntegerField(min_value=0, max_value=2**62, initial=0)
    llm_check_endpoint = forms.TypedChoiceField(
        label="LLM consistency check", required=False, coerce=int, empty_value=None, choices=()
    )
    enrichment_endpoint = forms.TypedChoiceField(
        label="LLM enrichment endpoint",
        required=False,
        coerce=int,
        empty_value=None,
        choices=(),
        help_text=(
            "Writes each occupation's job description, then each persona's quirks, mannerisms, personal time and "
            "lifestyle (checked by the rules; off = the curated draw)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["llm_check_endpoint"].choices = [("", "Off (rules only)"), *llm_endpoint_choices(task="check")]
        self.fields["enrichment_endpoint"].choices = [
            ("", "Off (no LLM enrichment)"),
            *llm_endpoint_choices(task="enrich"),
        ]


class PersonaImportForm(forms.Form):
    file = forms.FileField(help_text="PERSONA JSON list of persona strings, or JSON Lines (strings or 33-key dicts)")


class PersonaFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *PersonaStatus.choices])
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *PersonaSource.choices])
    split = forms.ChoiceField(required=False, choices=[("", "Any split"), *PersonaSplit.choices])
    dataset = forms.ModelChoiceField(required=False, queryset=CensusDataset.objects.all(), empty_label="Any dataset")
    key = forms.ChoiceField(
        label="Attribute", required=False, choices=[("", "Any attribute"), *((a.key, a.label) for a in ATTRIBUTES)]
    )
    value = forms.CharField(
        label="contains",
        required=False,
        max_length=200,
        help_text="In the chosen attribute, or in any attribute; '-' = not applicable",
    )


class EnrichForm(forms.Form):
    dataset = forms.ModelChoiceField(
        queryset=CensusDataset.objects.all(), required=False, empty_label="All datasets and imported personas"
    )
    endpoint = forms.TypedChoiceField(label="LLM endpoint", coerce=int, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["endpoint"].choices = llm_endpoint_choices(task="enrich")
