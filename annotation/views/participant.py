"""The anonymous participant flow: entry (claims a slot), instructions, persona, questions, final submit.

The PROLIFIC_PID arrives once, on the entry URL; from then on the participant is found through the session (its key
rotated at entry), so later URLs carry only the study's public id and a question position. A participant can reach
nothing but their own assignment: every page after the entry is a ``participant_page``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
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
from annotation.services.answers import (
    AnswerChange,
    AnswerError,
    answer_open,
    answer_save,
    participant_readiness,
    participant_submit,
)
from annotation.services.participant_store import (
    Progress,
    answers_progress,
    question_with_answer,
    session_participant,
)
from annotation.services.sessions import session_participant_bind, session_participant_id
from annotation.services.slots import EntryOutcome, param_is_valid, participant_enter, pid_is_valid
from benchmarks.judging.models import Order

PROLIFIC_COMPLETE_URL = "https://app.prolific.com/submissions/complete"
ParticipantView = Callable[..., HttpResponse]


def completion_url(code: str) -> str:
    return f"{PROLIFIC_COMPLETE_URL}?{urlencode({'cc': code})}"


def _problem(request: HttpRequest, study: Study | None, problem: str, *, status: int = 200) -> HttpResponse:
    return render(request, "annotation/participant/problem.html", {"study": study, "problem": problem}, status=status)


def participant_page(view: ParticipantView) -> ParticipantView:
    """Hand the view ``(request, study, participant, **url kwargs)`` for the session's participant in the study
    (loaded with their persona in one read), or answer with the page that says why there is none: no participant
    in this session (404), or their place was released (410)."""

    @wraps(view)
    def load(request: HttpRequest, study_id: UUID, **kwargs: object) -> HttpResponse:
        participant_id = session_participant_id(session=request.session, study_public_id=study_id)
        session = None
        if participant_id is not None:
            session = session_participant(study_public_id=study_id, participant_id=participant_id)
        if session is None:
            return _problem(request, get_object_or_404(Study, public_id=study_id), "no_session", status=404)
        if session.released:
            return _problem(request, session.study, "released", status=410)
        return view(request, session.study, session.participant, **kwargs)

    return load


@login_not_required
@require_GET
def entry(request: HttpRequest, study_id: UUID) -> HttpResponse:
    study = get_object_or_404(Study, public_id=study_id)
    if rate_limited(scope="entry", key=client_ip(request), limit=ENTRY_PER_MINUTE_PER_IP):
        return _problem(request, study, "rate_limited", status=429)
    pid = request.GET.get("PROLIFIC_PID", "").strip()
    study_param = request.GET.get("STUDY_ID", "").strip()
    session_param = request.GET.get("SESSION_ID", "").strip()
    if not pid and session_participant_id(session=request.session, study_public_id=study.public_id):
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
    if outcome.outcome == EntryOutcome.OTHER_SESSION:
        return _problem(request, study, "other_session", status=403)
    session_participant_bind(session=request.session, study=study, participant=outcome.participant)
    if outcome.outcome == EntryOutcome.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return redirect("participant-instructions", study_id=study.public_id)


def _next_position(participant: Participant) -> int:
    readiness = participant_readiness(participant=participant)
    pending = sorted(readiness.missing_choice + readiness.short_reasoning)
    return pending[0] if pending else 1


@login_not_required
@require_GET
@participant_page
def instructions(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    if participant.status == Participant.Status.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return render(
        request,
        "annotation/participant/instructions.html",
        {"study": study, "participant": participant, "resume_at": _next_position(participant)},
    )


@login_not_required
@require_GET
@participant_page
def persona(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
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
    progress = answers_progress(participant_id=participant.pk)
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
        "saved": answer.updated_at is not None,
        "options": [("A", first), ("B", second)],
        "position": question.position,
        "previous": question.position - 1 if question.position > 1 else None,
        "next": question.position + 1 if question.position < participant.study.questions_per_persona else None,
        "progress": progress,
        "question_states": [(at, progress.state(at)) for at in range(1, progress.total + 1)],
        "min_chars": question.min_chars(participant.study),
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
    """A question page; a POST saves a change to its answer (see ``_question_save``)."""
    if request.method == "POST":
        return _question_save(request, study_id, position)
    return _question_page(request, study_id=study_id, position=position)


@participant_page
def _question_page(request: HttpRequest, study: Study, participant: Participant, *, position: int) -> HttpResponse:
    item, answer = question_with_answer(participant=participant, position=position)
    if item is None:
        raise Http404("No such question.")
    return render(request, "annotation/participant/question.html", _question_context(participant, item, answer))


def _question_save(request: HttpRequest, study_id: UUID, position: int) -> HttpResponse:
    """The hot path of a live study: one ``answer_save`` from the ids in the session. A save that is allowed costs
    one UPDATE (on PostgreSQL it also reads the progress bar's figures): no model is loaded and no ORM query
    compiled. A refused one is answered by ``_save_refused``."""
    participant_id = session_participant_id(session=request.session, study_public_id=study_id)
    if participant_id is None:
        return _save_refused(request, study_id=study_id, position=position, error="")  # the no-session page
    if rate_limited(scope="save", key=str(participant_id), limit=SAVES_PER_MINUTE_PER_PARTICIPANT):
        return HttpResponse("Too many saves; please slow down.", status=429)
    change = _change_from(request)
    try:
        progress = answer_save(
            participant_id=participant_id, study_public_id=study_id, position=position, change=change
        )
    except AnswerError as exc:
        return _save_refused(request, study_id=study_id, position=position, error=str(exc))
    return _saved(request, study_id, position, progress)


@participant_page
def _save_refused(
    request: HttpRequest, study: Study, participant: Participant, *, position: int, error: str
) -> HttpResponse:
    """A refused save: the page loader answers for a session with no participant or a released place; a position
    the study does not have is a 404; otherwise the reason, in the partial, the question page or (beacon) nothing."""
    if not 1 <= position <= study.questions_per_persona:
        raise Http404("No such question.")
    if request.htmx:
        progress = answers_progress(participant_id=participant.pk, position=position)
        return _save_status(request, progress, error=error)
    if request.POST.get("beacon"):
        return HttpResponse(status=204)
    context = _question_context(participant, *question_with_answer(participant=participant, position=position))
    context["error"] = error
    return render(request, "annotation/participant/question.html", context, status=400)


def _saved(request: HttpRequest, study_id: UUID, position: int, progress: Progress) -> HttpResponse:
    """The answer to a save: from htmx (every change) the save-status partial, from the beacon sent when the page
    is left no content, from the form's buttons the next or previous question, or the review."""
    if request.htmx:
        return _save_status(request, progress)
    if request.POST.get("beacon"):
        return HttpResponse(status=204)
    go = request.POST.get("go", "next")
    if go == "previous" and position > 1:
        return redirect("participant-question", study_id=study_id, position=position - 1)
    if go == "next" and position < progress.total:
        return redirect("participant-question", study_id=study_id, position=position + 1)
    return redirect("participant-finish", study_id=study_id)


def _save_status(request: HttpRequest, progress: Progress, *, error: str = "") -> HttpResponse:
    # "Saved." once the answer has a change time (progress.saved). A plain context, because the partial needs no
    # context processor and running them all is a measurable share of a save (README, benchmarks).
    context = {"saved": progress.saved, "error": error, "progress": progress, "request": request}
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
@participant_page
def finish(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
    if participant.status == Participant.Status.SUBMITTED:
        return redirect("participant-done", study_id=study.public_id)
    return render(request, "annotation/participant/finish.html", _finish_context(study, participant))


@login_not_required
@require_POST
@participant_page
def submit(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
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
@participant_page
def done(request: HttpRequest, study: Study, participant: Participant) -> HttpResponse:
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
