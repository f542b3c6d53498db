from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from personas.forms import GenerateForm, PumsImportForm
from personas.models import CensusDataset, Persona
from personas.services import census_dataset_delete, persona_generation_start
from personas.uploads import census_dataset_import_start


def dataset_join_note(dataset: CensusDataset) -> str:
    if dataset.housing_join_rate is None:
        return " (no housing file: household attributes are absent)"
    return f"; {dataset.housing_join_rate:.0%} of persons joined their household"


class GenerateActionForm(GenerateForm):
    """The admin action's form: the dataset comes from the selected row."""

    dataset = forms.ModelChoiceField(queryset=CensusDataset.objects.all(), widget=forms.HiddenInput)


@admin.register(CensusDataset)
class CensusDatasetAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "year",
        "state",
        "rows",
        "weight_total",
        "person_file",
        "housing_file",
        "housing_joined",
        "created_at",
    )
    readonly_fields = [f.name for f in CensusDataset._meta.fields]
    exclude = ("marginals", "codebook")
    actions = ("generate_personas",)
    change_list_template = "admin/personas/censusdataset/change_list.html"

    @admin.display(description="Households joined")
    def housing_joined(self, obj: CensusDataset) -> str:
        return "—" if obj.housing_join_rate is None else f"{obj.housing_join_rate:.0%}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # datasets come from the import form below, never typed in by hand

    def delete_model(self, request: HttpRequest, obj: CensusDataset) -> None:
        census_dataset_delete(dataset=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CensusDataset]) -> None:
        for dataset in queryset:
            census_dataset_delete(dataset=dataset)

    def get_urls(self) -> list:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="personas_censusdataset_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("personas.add_censusdataset"):
            raise PermissionDenied
        form = PumsImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            job = census_dataset_import_start(
                person=data["person_file"],
                housing=data["housing_file"],
                dictionary=data["dictionary_file"],
                name=data["name"],
                started_by=request.user,
            )
            link = reverse("admin:core_job_change", args=[job.pk])
            self.message_user(
                request,
                format_html('Started {} #{} — <a href="{}">follow its progress</a>.', job.label, job.pk, link),
                messages.SUCCESS,
            )
            return redirect("admin:personas_censusdataset_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": "Import a PUMS extract",
        }
        return render(request, "admin/personas/censusdataset/import.html", context)

    @admin.action(description="Generate N personas from the selected dataset", permissions=["generate"])
    def generate_personas(self, request: HttpRequest, queryset: QuerySet[CensusDataset]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one dataset.", messages.WARNING)
            return None
        dataset = queryset.get()
        form = GenerateActionForm(request.POST if "n" in request.POST else None, initial={"dataset": dataset})
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            job = persona_generation_start(
                dataset=dataset,
                n=data["n"],
                seed=data["seed"],
                llm_check_endpoint_id=data["llm_check_endpoint"],
                enrichment_endpoint_id=data["enrichment_endpoint"],
                started_by=request.user,
            )
            self.message_user(request, f"Started {job.label} #{job.pk}; its progress shows below.", messages.SUCCESS)
            return redirect("job-detail", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "dataset": dataset,
            "opts": self.model._meta,
            "title": f"Generate personas from {dataset}",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/personas/censusdataset/generate.html", context)

    def has_generate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("personas.add_persona")


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = ("id", "__str__", "status", "source", "split", "dataset", "generation_seed", "created_at")
    list_filter = ("status", "source", "split", "dataset")
    search_fields = ("census_record_id", "prune_reason", "public_id")
    readonly_fields = (
        "public_id",
        "census_record_id",
        "generation_seed",
        "generation_key",
        "dataset",
        "checks",
        "created_at",
    )
