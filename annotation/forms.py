from __future__ import annotations

from typing import Any

from django import forms

from annotation.models import REASONING_HARD_CAP, Study
from annotation.services.study import ATTENTION_ITEMS, DEFAULT_INSTRUCTIONS, StudySettings
from benchmarks.pairs.models import PreferencePairQuerySet
from benchmarks.pairs.sources import pair_sources, pairs_select
from personas.attributes import ATTRIBUTES
from personas.models import CensusDataset, PersonaQuerySet, PersonaSource, PersonaSplit, PersonaStatus
from personas.selectors import personas_select

CODE_HELP = "Leave empty to generate one."


PERSONA_STATUSES = [
    ("", "Consistent or draft"),
    (PersonaStatus.CONSISTENT, "Consistent"),
    (PersonaStatus.DRAFT, "Draft"),
]
PERSONA_FILTER_FIELDS = ("dataset", "source", "split", "status", "key", "value")
PERSONA_FIELDS = (*(f"persona_{name}" for name in PERSONA_FILTER_FIELDS), "sample_size")
PAIR_PREFIX = "pairs_from_"  # one choice field per pair source: pairs_from_batch, pairs_from_topic, …
# The paper's protocol (PERSONA, section 5): 20 personas, 4 raters each, 10 questions; one persona per rater.
PAPER_PRESET = {
    "sample_size": 20,
    "raters_per_persona": 4,
    "majority_threshold": 3,
    "pairs_per_persona": 10,
    "attention_checks": 1,
}


class StudyForm(forms.Form):
    """Settings plus how to choose personas (filters + seeded sample, or an explicit list) and pairs (by source)."""

    name = forms.CharField(max_length=200)
    persona_mode = forms.ChoiceField(
        label="Choose personas",
        choices=[("filter", "By filters (then a seeded sample)"), ("list", "From a list I pick")],
        initial="filter",
        widget=forms.RadioSelect,
    )
    persona_dataset = forms.ModelChoiceField(
        label="Dataset", required=False, queryset=CensusDataset.objects.all(), empty_label="Any dataset"
    )
    persona_source = forms.ChoiceField(
        label="Source", required=False, choices=[("", "Any source"), *PersonaSource.choices]
    )
    persona_split = forms.ChoiceField(label="Split", required=False, choices=[("", "Any split"), *PersonaSplit.choices])
    persona_status = forms.ChoiceField(
        label="Status", required=False, choices=PERSONA_STATUSES, help_text="Pruned personas are never used."
    )
    persona_key = forms.ChoiceField(
        label="Attribute", required=False, choices=[("", "Any attribute"), *((a.key, a.label) for a in ATTRIBUTES)]
    )
    persona_value = forms.CharField(label="contains", required=False, max_length=200)
    sample_size = forms.IntegerField(
        min_value=1, required=False, label="Sample size", help_text="Sample this many of the matches (seeded)."
    )
    persona_ids = forms.CharField(
        label="Persona numbers",
        required=False,
        max_length=100_000,
        help_text="Numbers separated by commas or spaces; search below and press Add.",
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for source in pair_sources():
            options = [(o.value, f"{o.label} ({o.count})") for o in source.options() if o.count]
            self.fields[f"{PAIR_PREFIX}{source.key}"] = forms.ChoiceField(
                label=source.label, required=False, choices=[("", "Any"), *options]
            )

    def persona_filter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in PERSONA_FIELDS]

    def pair_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(PAIR_PREFIX)]

    def setting_fields(self) -> list[forms.BoundField]:
        chosen = {"name", "persona_mode", "persona_ids", *PERSONA_FIELDS}
        return [self[name] for name in self.fields if name not in chosen and not name.startswith(PAIR_PREFIX)]

    def clean_persona_ids(self) -> list[int]:
        text = self.cleaned_data["persona_ids"].replace(",", " ").replace("#", " ")
        if not all(part.isdigit() for part in text.split()):
            raise forms.ValidationError("Use persona numbers (e.g. 12, 40, 77).")
        return sorted({int(part) for part in text.split()})

    def persona_filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data.get(f"persona_{name}") for name in PERSONA_FILTER_FIELDS if data.get(f"persona_{name}")}

    def pair_choices(self) -> dict[str, str]:
        return {
            s.key: self.cleaned_data[f"{PAIR_PREFIX}{s.key}"]
            for s in pair_sources()
            if self.cleaned_data.get(f"{PAIR_PREFIX}{s.key}")
        }

    def selection(self) -> dict[str, Any]:
        """The choice of personas and pairs as stored on the study (JSON), to start an edit from."""
        data = self.cleaned_data
        filters = {k: (v.pk if isinstance(v, CensusDataset) else v) for k, v in self.persona_filters().items()}
        personas: dict[str, Any] = {"mode": data["persona_mode"]}
        if data["persona_mode"] == "list":
            personas["ids"] = data["persona_ids"]
        else:
            personas.update(filters=filters, sample_size=data["sample_size"])
        return {"personas": personas, "pairs": self.pair_choices()}

    def personas(self) -> PersonaQuerySet:
        data = self.cleaned_data
        if data.get("persona_mode") == "list":
            return personas_select(ids=data.get("persona_ids") or [])
        return personas_select(
            filters=self.persona_filters(), sample_size=data.get("sample_size"), seed=data.get("seed") or 0
        )

    def pairs(self) -> PreferencePairQuerySet:
        return pairs_select(choices=self.pair_choices())

    def study_arguments(self) -> dict[str, Any]:
        """What study_create and study_update both take from a valid form: settings, personas, pairs, the choice."""
        return {
            "config": self.settings(),
            "personas": self.personas(),
            "pairs": self.pairs(),
            "selection": self.selection(),
        }

    def clean(self) -> dict:
        data = super().clean()
        if data.get("persona_mode") == "list" and not data.get("persona_ids"):
            self.add_error("persona_ids", "List at least one persona, or choose personas by filters.")
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


def study_form_initial(study: Study) -> dict[str, Any]:
    """The edit form of a draft: its settings and the choice of personas and pairs it was built from."""
    initial: dict[str, Any] = {
        field: getattr(study, field)
        for field in (
            "name",
            "pairs_per_persona",
            "raters_per_persona",
            "majority_threshold",
            "attention_checks",
            "reasoning_min_chars",
            "reasoning_max_chars",
            "block_paste",
            "estimated_minutes",
            "max_minutes_override",
            "seed",
            "instructions",
            "completion_code",
            "failed_check_code",
            "no_place_code",
        )
    }
    chosen = study.selection.get("personas") or {}
    if chosen.get("mode") == "filter":
        initial["persona_mode"] = "filter"
        initial["sample_size"] = chosen.get("sample_size")
        initial.update({f"persona_{key}": value for key, value in (chosen.get("filters") or {}).items()})
    else:  # a list, or a study built before the choice was recorded: its personas as a list
        initial["persona_mode"] = "list"
        ids = chosen.get("ids") or study.study_personas.order_by("position").values_list("persona_id", flat=True)
        initial["persona_ids"] = ", ".join(str(pk) for pk in ids)
    initial.update({f"{PAIR_PREFIX}{key}": value for key, value in (study.selection.get("pairs") or {}).items()})
    return initial


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("excluded", "Exclude"), ("pending", "Undo")])
    note = forms.CharField(max_length=2000, required=False)


class ReturnsUploadForm(forms.Form):
    file = forms.FileField(help_text="Prolific's submissions export (CSV).")


class BonusForm(forms.Form):
    amount = forms.DecimalField(min_value=0, max_value=100, decimal_places=2, required=False)
