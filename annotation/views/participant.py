"""The anonymous participant flow: entry (claims a slot), instructions, persona, questions, final submit.

The PROLIFIC_PID arrives once, on the entry URL; from then on the participant is found through the session (its key
rotated at entry), so later URLs carry only the study's public id and a question position. A participant can reach
nothing but their own assignment.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotation.models import Answer, Participant, Question, Study
from annotation.ratelimit import (
    ENTRY_PER_MINUTE_PER_IP,
    ENTRY_PER_MINUTE_PER_PID,
    SAVES_PER_MINUTE_PER_PARTICIPANT,
    client_ip,
    rate_limited,
)
from annotation.selectors import questions_for
from annotation.services.answer_sql import Progress, answers_progress
from annotation.services.answers import (
    AnswerChange,
    AnswerError,
    answer_change_apply,
    answer_open,
    answer_save,
    participant_readiness,
    participant_submit,
)
from annotation.services.page_sql import question_with_answer, session_participant
from annotation.services.slots import (
    EntryOutcome,
    param_is_valid,
    participant_enter,
    participant_holds_slot,
    pid_is_valid,
)
from benchmarks.models import Order

SESSION_KEY = "annotation_participants"  # {study public_id: participant pk}
PROLIFIC_COMPLETE_URL = "https://app.prolific.com/submissions/complete"


def completion_url(code: str) -> str:
    return f"{PROLIFIC_COMPLETE_URL}?{urlencode({'cc': code})}"


def session_bind(request: HttpRequest, *, study: Study, participant: Participant) -> None:
    """Bind the participant to a fresh session key (no fixation: a planted cookie is replaced)."""
    bound = dict(request.session.get(SESSION_KEY, {}))
    request.session.cycle_key()
    bound[str(study.public_id)] = participant.pk
    request.session[SESSION_KEY] = bound


def _problem(request: HttpRequest, study: Study | None, problem: str, *, status: int = 200) -> HttpResponse:
    return render(request, "annotation/participant/problem.html", {"study": study, "problem": problem}, status=status)


def _current(request: HttpRequest, study_id: UUID) -> tuple[Study, Participant] | HttpResponse:
    """The study and the session's participant in it, or the page explaining why there is none."""
    participant_id = request.session.get(SESSION_KEY, {}).get(str(study_id))
    participant = None
    if participant_id is not None:
        # One query for the participant, their study, persona and slot: every participant page starts here.
        participant = session_participant(study_public_id=study_id, participant_id=participant_id)
    if participant is None:
        return _problem(request, get_object_or_404(Study, public_id=study_id), "no_session", status=404)
    study = participant.study
    if participant.status != Participant.Status.SUBMITTED and not participant_holds_slot(participant=participant):
        return _problem(request, study, "released", status=410)
    return study, participant


@login_not_required
@require_GET
def entry(request: HttpRequest, study_id: UUID) -> HttpResponse:
    study = get_object_or_404(Study, public_id=study_id)
    if rate_limited(scope="entry", key=client_ip(request), limit=ENTRY_PER_MINUTE_PER_IP):
        return _problem(request, study, "rate_limited", status=429)
    pid = request.GET.get("PROLIFIC_PID", "").strip()
    study_param = request.GET.get("STUDY_ID", "").strip()
    session_param = request.GET.get("SESSION_ID", "").strip()
    if not pid and request.session.get(SESSION_KEY, {}).get(str(study.public_id)):
        return redirect("participant-instructions", study_id=study.public_id)
    if not pid_is_valid(pid) or not param_is_valid(study_param) or not param_is_valid(session_param):
        return _problem(request, study, "bad_link", status=400)
    if rate_limited(scope="entry-pid", key=f"{study.pk}:{pid}", limit=ENTRY_PER_MINUTE_PER_PID):
        return _problem(request, study, "rate_limited", status=429)
    outcome = participant_enter(study=study, pid=pid, study_param=study_param, session_param=session_param)
    if outcome.outcome == EntryOutcome.FULL:
        return _problem(request, study, "full")
    if outcome.outcome == EntryOutcome.NOT_OPEN:
        return _problem(request, study, "not_open")
    if outcome.outcome == EntryOutcome.RELEASED:
        return _problem(request, study, "released", status=410)
    session_bind(request, study=study, participant=outcome.participant)
    if outcome.outcome == EntryOutcome.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return redirect("participant-instructions", study_id=study.public_id)


def _next_position(participant: Participant) -> int:
    readiness = participant_readiness(participant=participant)
    pending = sorted(readiness.missing_choice + readiness.short_reasoning)
    return pending[0] if pending else 1


@login_not_required
@require_GET
def instructions(request: HttpRequest, study_id: UUID) -> HttpResponse:
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    if participant.status == Participant.Status.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return render(
        request,
        "annotation/participant/instructions.html",
        {"study": study, "participant": participant, "resume_at": _next_position(participant)},
    )


@login_not_required
@require_GET
def persona(request: HttpRequest, study_id: UUID) -> HttpResponse:
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    back = request.GET.get("back", "")
    return render(
        request,
        "annotation/participant/persona.html",
        {
            "study": study,
            "participant": participant,
            "persona": participant.study_persona.persona,
            "back": int(back) if back.isdigit() else None,
            "resume_at": _next_position(participant),
        },
    )


def _question_context(participant: Participant, question: Question, answer: Answer | None) -> dict[str, object]:
    if answer is None:  # the first view fixes the A/B order
        answer = answer_open(participant=participant, question=question)
    chosen_first = answer.order_shown == Order.CHOSEN_FIRST
    first, second = (
        (question.chosen_text, question.rejected_text)
        if chosen_first
        else (question.rejected_text, question.chosen_text)
    )
    return {
        "study": participant.study,
        "participant": participant,
        "persona": participant.study_persona.persona,
        "question": question,
        "answer": answer,
        "options": [("A", first), ("B", second)],
        "position": question.position,
        "previous": question.position - 1 if question.position > 1 else None,
        "next": question.position + 1 if question.position < participant.study.questions_per_persona else None,
        "progress": answers_progress(participant_id=participant.pk),
        "read_only": participant.status != Participant.Status.ACTIVE,
    }


def _change_from(request: HttpRequest) -> AnswerChange:
    letter = request.POST.get("choice") or None
    reasoning = request.POST.get("reasoning")
    if reasoning is not None:
        reasoning = reasoning.replace("\r\n", "\n")
    elapsed = request.POST.get("elapsed_ms", "0")
    return AnswerChange(
        letter=letter,
        reasoning=reasoning,
        pasted=request.POST.get("pasted") == "1",
        elapsed_ms=int(elapsed) if elapsed.isdigit() and len(elapsed) < 10 else 0,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, study_id: UUID, position: int) -> HttpResponse:
    if request.method == "POST":
        return _question_save(request, study_id, position)
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    _study, participant = current
    item, answer = question_with_answer(participant=participant, position=position)
    if item is None:
        raise Http404("No such question.")
    return render(request, "annotation/participant/question.html", _question_context(participant, item, answer))


def _question_save(request: HttpRequest, study_id: UUID, position: int) -> HttpResponse:
    """A save: from htmx (every change; answered with the save-status partial), from the form's buttons (then on to
    the next or previous question, or the review) or from the beacon sent when the page is left (no content)."""
    saved = _change_apply(request, study_id, position)
    if isinstance(saved, HttpResponse):
        return saved
    if request.htmx:
        return _save_status(request, saved, position)
    if request.POST.get("beacon"):
        return HttpResponse(status=204)
    if saved.progress is None:  # refused, on the page views' path: the participant is loaded
        participant = saved.participant
        context = _question_context(participant, *question_with_answer(participant=participant, position=position))
        context["error"] = saved.error
        return render(request, "annotation/participant/question.html", context, status=400)
    go = request.POST.get("go", "next")
    if go == "previous" and position > 1:
        return redirect("participant-question", study_id=study_id, position=position - 1)
    if go == "next" and position < saved.progress.total:
        return redirect("participant-question", study_id=study_id, position=position + 1)
    return redirect("participant-finish", study_id=study_id)


class _Saved(NamedTuple):
    participant_id: int
    progress: Progress | None  # after the change; None when it was refused
    error: str = ""  # why it was refused
    participant: Participant | None = None  # loaded when the save took the page views' path


def _change_apply(request: HttpRequest, study_id: UUID, position: int) -> _Saved | HttpResponse:
    """Apply the posted change, or say (with the page) why there is no participant to save for.

    This is the hot path of a live study, so a save that is allowed costs one UPDATE (which checks, from the ids in
    the session, that this participant may make it, and on PostgreSQL also reads the progress bar's figures): no
    model is loaded and no ORM query compiled. Anything else takes the page views' path, which finds the participant
    and says what is wrong (or creates the answer row for a question that was never shown, and saves).
    """
    change = _change_from(request)
    participant_id = request.session.get(SESSION_KEY, {}).get(str(study_id))
    if participant_id is not None:
        if rate_limited(scope="save", key=str(participant_id), limit=SAVES_PER_MINUTE_PER_PARTICIPANT):
            return HttpResponse("Too many saves; please slow down.", status=429)
        progress = answer_change_apply(
            participant_id=participant_id, study_public_id=study_id, position=position, change=change
        )
        if progress is not None:
            return _Saved(participant_id, progress)
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    if not 1 <= position <= study.questions_per_persona:
        raise Http404("No such question.")
    try:
        progress = answer_save(participant=participant, position=position, change=change)
    except AnswerError as exc:
        return _Saved(participant.pk, None, str(exc), participant)
    return _Saved(participant.pk, progress, participant=participant)


def _save_status(request: HttpRequest, saved: _Saved, position: int) -> HttpResponse:
    progress = saved.progress or answers_progress(participant_id=saved.participant_id, position=position)
    # The partial says "Saved." once the answer has a change time; only whether it has one is needed here.
    context = {"answer": {"updated_at": progress.saved}, "error": saved.error, "progress": progress, "request": request}
    # A plain context: the partial needs no context processor, and running them all cost a tenth of a save.
    return HttpResponse(render_to_string("annotation/participant/question.html#save-status", context))


def _finish_context(study: Study, participant: Participant) -> dict[str, object]:
    """The review-and-submit page: what is still missing, every question, and the progress bar."""
    questions = questions_for(participant=participant)
    return {
        "study": study,
        "participant": participant,
        "readiness": participant_readiness(participant=participant),
        "questions": questions,
        "progress": answers_progress(participant_id=participant.pk),
    }


@login_not_required
@require_GET
def finish(request: HttpRequest, study_id: UUID) -> HttpResponse:
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    if participant.status == Participant.Status.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return render(request, "annotation/participant/finish.html", _finish_context(study, participant))


@login_not_required
@require_POST
def submit(request: HttpRequest, study_id: UUID) -> HttpResponse:
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    try:
        code = participant_submit(participant=participant)
    except AnswerError as exc:
        context = {**_finish_context(study, participant), "error": str(exc)}
        return render(request, "annotation/participant/finish.html", context, status=400)
    if participant.is_preview:
        return redirect("participant-done", study_id=study.public_id)
    return HttpResponseRedirect(completion_url(code))


@login_not_required
@require_GET
def done(request: HttpRequest, study_id: UUID) -> HttpResponse:
    current = _current(request, study_id)
    if isinstance(current, HttpResponse):
        return current
    study, participant = current
    if participant.status != Participant.Status.SUBMITTED:
        return redirect("participant-finish", study_id=study.public_id)
    answers = (
        Answer.objects.filter(participant=participant)
        .select_related("question__pair__prompt")
        .order_by("question__position")
    )
    return render(
        request,
        "annotation/participant/done.html",
        {
            "study": study,
            "participant": participant,
            "answers": answers,
            "completion_url": completion_url(participant.completion_code),
            "coordinator_url": reverse("study-detail", args=[study.pk]) if participant.is_preview else "",
        },
    )
