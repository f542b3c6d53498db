"""A crawl per role over the demo data: every page, image and export a user reaches, the way they reach it.

On the data ``manage.py demo_setup`` writes (what ``bin/demo`` shows), each role starts where it would — the admin,
coordinator and analyst at the home page, nobody at the home page too (it sends them to the login page), the
participant at the demo study's Prolific link — and follows, breadth first, every same-origin ``href``, ``src`` and
``hx-get`` it is shown, one URL per route pattern and query-string shape (the admin's filter links otherwise run
into the thousands). Forms are never submitted: the crawl only GETs.

What it checks: no 5xx anywhere; no link the app prints leads nowhere (404 or 405); every PNG and SVG decodes, every
CSV parses with ``csv`` and every JSON (and JSON Lines) with ``json``; every static file a page names exists; and
every URL the admin or the coordinator reached that another role may not see — read from the view's own
``permission_required``, ``login_not_required`` and the Django admin's staff check, not from a hand list — answers
that role 302, 403 or 404, never 200.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import xml.etree.ElementTree as ET
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, ResolverMatch, resolve

from annotation.demo import DEMO_STUDY_NAME
from annotation.models import Study

# Each test may make a whole crawl (the first also writes the demo data): slow on a loaded 2-core machine, never stuck.
pytestmark = pytest.mark.timeout(1200)

ROLES = ("admin", "coordinator", "analyst", "nobody", "participant")
# The fewest distinct URLs (route pattern x query shape) each role must reach: a shrinking crawl fails loudly.
# Measured on the demo data: admin 421, coordinator 113, analyst 101, nobody 1 (the login page), participant 5.
MINIMUM = {"admin": 350, "coordinator": 100, "analyst": 90, "nobody": 1, "participant": 5}
MAX_URLS = 3000  # a guard against a crawl that never ends; no role comes near it
HOST = "testserver"
# GETs that act, so the crawl does not follow them, each for its reason.
SKIPPED_ROUTES = {
    # Both are POST-only in Django 5 (a GET answers 405), and a logout would end the crawl's own session.
    "logout": "ends the session",
    "admin:logout": "ends the session",
    # Entering a study claims a place for the Prolific id in the link (the participant role does it once, on purpose).
    "participant-entry": "claims a place in the study",
}
REFUSED = {302, 403, 404}


class _Links(HTMLParser):
    """Every ``href``, ``src`` and ``hx-get`` on a page (htmx partials are GETs a browser makes on its own)."""

    ATTRIBUTES = {"href", "src", "hx-get"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":  # a form's action is reached by submitting it, which the crawl never does
            return
        self.urls.extend(value for name, value in attrs if name in self.ATTRIBUTES and value)


def _links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@dataclass
class Visit:
    url: str
    status: int
    referrer: str
    route: str
    content_type: str = ""
    seconds: float = 0.0


@dataclass
class Crawl:
    role: str
    visits: dict[tuple[str, tuple[str, ...]], Visit] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    static: set[str] = field(default_factory=set)

    def reached(self) -> list[Visit]:
        return [visit for visit in self.visits.values() if visit.status == 200]


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _check_body(content_type: str, url: str, body: bytes) -> str | None:
    """Why the body does not load the way its users load it, or None."""
    kind = content_type.split(";")[0].strip().lower()
    path = urlsplit(url).path
    try:
        if kind == "image/png":
            from PIL import Image

            assert body.startswith(b"\x89PNG\r\n\x1a\n"), "no PNG signature"
            with Image.open(io.BytesIO(body)) as image:
                image.load()
                assert min(image.size) > 0, f"empty image {image.size}"
        elif kind == "image/svg+xml":
            root = ET.fromstring(body)
            assert root.tag.endswith("svg"), f"root element {root.tag}"
        elif kind == "text/csv":
            # An empty file is a CSV too: Prolific's bulk-bonus file has no header and may have no rows.
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
            assert all(len(row) == len(rows[0]) for row in rows), "rows of different lengths"
        elif kind in {"application/jsonl", "application/x-ndjson", "application/jsonlines"} or path.endswith(".jsonl"):
            for line in body.decode().splitlines():
                if line.strip():
                    json.loads(line)
        elif kind == "application/json" or kind.endswith("+json"):
            json.loads(body)
        elif kind == "application/zip":
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                assert archive.testzip() is None, "a corrupt member"
                assert archive.namelist(), "an empty archive"
    except Exception as exc:  # the report names the URL; the exception says what broke
        return f"{url}: {kind} does not load: {type(exc).__name__}: {exc}"
    return None


def _route(match: ResolverMatch) -> str:
    """The URL pattern, with the value of each ``str``/``slug`` argument: a figure's or a table's name and format
    pick what is drawn, where an object's id (``int``, ``uuid``, the admin's ``path``) only picks whose it is."""
    converters = {name: converter for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", match.route)}
    named = [
        f"{name}={value}" for name, value in sorted(match.kwargs.items()) if converters.get(name) in {"", "str", "slug"}
    ]
    route = f"{match.namespace + ':' if match.namespace else ''}{match.route}"
    return route + (f" [{', '.join(named)}]" if named else "")


def crawl(client: Client, role: str, start: str) -> Crawl:
    """Breadth-first GETs from ``start``, one URL per (route pattern, sorted query keys)."""
    result = Crawl(role)
    queue: deque[tuple[str, str]] = deque([(start, "(start)")])
    while queue and len(result.visits) < MAX_URLS:
        url, referrer = queue.popleft()
        split = urlsplit(url)
        if split.path.startswith("/static/"):
            result.static.add(split.path)
            continue
        try:
            match = resolve(split.path)
        except Resolver404:
            result.problems.append(f"{url} (linked from {referrer}) resolves to no view")
            continue
        if match.view_name in SKIPPED_ROUTES and url != start:
            result.skipped.add(match.view_name)
            continue
        keys = tuple(sorted({name for name, _ in parse_qsl(split.query, keep_blank_values=True)}))
        if match.namespace == "admin" and len(keys) > 1:
            # The admin's change lists combine every filter with the others, a sort and a page: thousands of
            # shapes of one view. One key at a time reaches each filter, the sort, the search and the pager.
            result.skipped.add("admin: links combining query keys")
            continue
        key = (_route(match), keys)
        if key in result.visits:
            continue
        began = time.perf_counter()
        response = client.get(url)
        visit = Visit(url, response.status_code, referrer, key[0], response.get("Content-Type", ""))
        visit.seconds = time.perf_counter() - began
        result.visits[key] = visit
        body = _body(response)
        if response.status_code >= 500:
            result.problems.append(f"{url} (linked from {referrer}) answered {response.status_code}")
            continue
        if response.status_code in {404, 405} and referrer != "(start)":
            result.problems.append(f"{url} (linked from {referrer}) answered {response.status_code}")
        if response.status_code in {301, 302, 303, 307, 308}:
            target = _same_origin(response["Location"], url)
            if target:
                queue.append((target, url))
            continue
        if response.status_code != 200:
            continue
        problem = _check_body(visit.content_type, url, body)
        if problem:
            result.problems.append(problem)
        if visit.content_type.startswith("text/html"):
            for link in _links(body.decode()):
                target = _same_origin(link, url)
                if target:
                    queue.append((target, url))
    return result


def _same_origin(link: str, base: str) -> str | None:
    """The link as a path with its query when it stays on this site, else None (external, mailto:, #anchor)."""
    link, _ = urldefrag(link.strip())
    if not link or link.startswith(("mailto:", "javascript:", "data:", "tel:")):
        return None
    split = urlsplit(link)
    if split.scheme and split.scheme not in {"http", "https"}:
        return None
    if split.netloc and split.netloc != HOST:
        return None
    path = split.path
    if not path:
        path = urlsplit(base).path
    elif not path.startswith("/"):
        path = urlsplit(base).path.rsplit("/", 1)[0] + "/" + path
    return path + (f"?{split.query}" if split.query else "")


def required_permissions(view: Callable[..., Any]) -> set[str]:
    """The permissions ``permission_required`` checks before ``view`` runs, read from its closures."""
    found: set[str] = set()
    stack: list[Any] = [view]
    seen: set[int] = set()
    while stack:
        function = stack.pop()
        if id(function) in seen:
            continue
        seen.add(id(function))
        if getattr(function, "__wrapped__", None) is not None:
            stack.append(function.__wrapped__)
        code = getattr(function, "__code__", None)
        if code is None:
            continue
        cells = {}
        for name, cell in zip(code.co_freevars, function.__closure__ or (), strict=True):
            try:
                cells[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        if function.__name__ == "check_perms" and "perms" in cells:
            found.update(cells["perms"])
        stack.extend(value for value in cells.values() if callable(value))
    return found


def may_see(user: Any, url: str) -> bool:
    """Whether the app's own rules let ``user`` see ``url`` (login, the admin's staff check, the view's permissions)."""
    match = resolve(urlsplit(url).path)
    if match.namespace == "admin":  # the admin's views skip the login middleware: they check is_staff themselves
        return match.view_name == "admin:login" or (user.is_active and user.is_staff)
    if not user.is_authenticated:
        return getattr(match.func, "login_required", True) is False
    return user.has_perms(required_permissions(match.func))


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The demo data, written once for this module in a transaction rolled back at its end; each role's crawl is
    made the first time a test asks for it (so each test's timeout covers one crawl) and kept for the others."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("demo_setup", stdout=io.StringIO())
        study = Study.objects.get(name=DEMO_STUDY_NAME)
        users = {user.username: user for user in get_user_model().objects.filter(username__in=ROLES)}
        clients: dict[str, Client] = {}
        for role in ROLES:
            clients[role] = Client(raise_request_exception=False)  # a 500 is a finding, not a crash
            if role in users:
                clients[role].force_login(users[role])
        starts = dict.fromkeys(ROLES, "/")
        starts["participant"] = f"/s/{study.public_id}/?PROLIFIC_PID=crawl1&STUDY_ID=demo&SESSION_ID=crawl1"
        yield {"crawls": {}, "clients": clients, "users": users, "starts": starts}
        transaction.set_rollback(True)


def crawl_of(demo: dict[str, Any], role: str) -> Crawl:
    if role not in demo["crawls"]:
        demo["crawls"][role] = crawl(demo["clients"][role], role, demo["starts"][role])
    return demo["crawls"][role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_crawl_reaches_every_page_without_a_server_error(
    demo: dict[str, Any], role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = crawl_of(demo, role)
    statuses: dict[int, int] = {}
    for visit in result.visits.values():
        statuses[visit.status] = statuses.get(visit.status, 0) + 1
    slowest = sorted(result.visits.values(), key=lambda visit: -visit.seconds)[:5]
    with capsys.disabled():  # the counts show in every run, so a crawl that shrinks is seen
        print(
            f"\ncrawl {role}: {len(result.visits)} URLs visited ({len(result.reached())} answered 200), "
            f"statuses {dict(sorted(statuses.items()))}, not followed: {sorted(result.skipped) or 'nothing'}; "
            f"slowest {', '.join(f'{visit.url} {visit.seconds:.1f}s' for visit in slowest)}"
        )
    missing_static = sorted(path for path in result.static if not finders.find(path.removeprefix("/static/")))
    assert result.problems == []
    assert missing_static == []
    assert len(result.visits) < MAX_URLS
    assert len(result.reached()) >= MINIMUM[role], sorted(visit.url for visit in result.reached())


@pytest.mark.django_db
def test_the_participant_crawl_plays_the_whole_flow(demo: dict[str, Any]) -> None:
    routes = {visit.route for visit in crawl_of(demo, "participant").reached()}
    for page in ("instructions/", "persona/", "q/<int:position>/", "finish/"):
        assert f"s/<uuid:study_id>/{page}" in routes, routes


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "analyst", "nobody", "participant"])
def test_pages_a_role_may_not_see_are_refused(
    demo: dict[str, Any], role: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every URL the admin or the coordinator reached that the app's rules keep from ``role`` is not a 200."""
    user = demo["users"].get(role) or AnonymousUser()
    client: Client = demo["clients"][role]
    seen: dict[str, Visit] = {}
    for staff in ("admin", "coordinator"):
        for visit in crawl_of(demo, staff).reached():
            seen.setdefault(visit.url, visit)
    forbidden = [url for url in seen if not may_see(user, url)]
    answered = {url: client.get(url).status_code for url in forbidden}
    leaks = {url: status for url, status in answered.items() if status not in REFUSED}
    with capsys.disabled():
        print(f"\nrefusals {role}: {len(forbidden)} of the {len(seen)} staff URLs are not theirs; leaks {leaks}")
    assert leaks == {}
    assert len(forbidden) >= {"coordinator": 20, "analyst": 25, "nobody": 50, "participant": 50}[role]


def test_required_permissions_reads_the_decorator() -> None:
    assert required_permissions(resolve("/studies/new/").func) == {"annotation.add_study"}
    assert required_permissions(resolve("/studies/").func) == {"annotation.view_study"}
    assert re.match(r"^s/", resolve("/s/00000000-0000-0000-0000-000000000001/instructions/").route)
    assert resolve("/s/00000000-0000-0000-0000-000000000001/instructions/").func.login_required is False
