"""Study downloads: answers (CSV, JSONL) and per-question majorities (CSV)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from annotation.exports import (
    ANSWER_FIELDS,
    MAJORITY_FIELDS,
    answer_rows,
    chunked,
    csv_lines,
    jsonl_lines,
    majority_rows,
)
from annotation.models import Study


@permission_required("annotation.export_study", raise_exception=True)
@require_GET
def study_export(request: HttpRequest, study_id: int, name: str) -> StreamingHttpResponse:
    study = get_object_or_404(Study, pk=study_id)
    # Prolific IDs go only to those who may manage participants (coordinators), not to analysts.
    include_pid = request.user.has_perm("annotation.change_participant")
    if name == "answers.csv":
        lines, content_type = csv_lines(answer_rows(study=study, include_pid=include_pid), ANSWER_FIELDS), "text/csv"
    elif name == "answers.jsonl":
        lines, content_type = jsonl_lines(answer_rows(study=study, include_pid=include_pid)), "application/x-ndjson"
    elif name == "majority.csv":
        lines, content_type = csv_lines(majority_rows(study=study), MAJORITY_FIELDS), "text/csv"
    else:
        raise Http404("No such export.")
    # Streamed in pieces of 64 KiB, the answers read through a cursor: constant memory, and a web worker that spends
    # on a download about what the file's rows cost to write (participants' saves share these workers).
    response = StreamingHttpResponse(chunked(lines), content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study-{study.pk}-{name}"'
    return response
