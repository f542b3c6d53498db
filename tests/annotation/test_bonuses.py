"""Bonuses, with Prolific's API played by a local HTTP server (nothing leaves the machine)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import reverse

from annotation.models import BonusPayment, Participant
from annotation.services.bonuses import (
    BonusError,
    bonus_csv,
    bonus_payment_pay,
    bonus_payment_resolve,
    bonus_payment_setup,
    bonus_set,
)
from tests.annotation.factories import participant_complete, study_make

pytestmark = pytest.mark.django_db


class FakeProlific:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict | None, str]] = []
        self.pay_status = 200
        self.drop_pay = False


@pytest.fixture
def prolific(settings: object) -> Iterator[FakeProlific]:
    fake = FakeProlific()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            fake.calls.append(("POST", self.path, body, self.headers.get("Authorization", "")))
            if self.path == "/api/v1/submissions/bonus-payments/":
                self._json(201, {"id": "bulk123", "amount": 150, "fees": 50, "total_amount": 200})
            elif self.path == "/api/v1/bulk-bonus-payments/bulk123/pay/":
                if fake.drop_pay:
                    self.connection.close()  # the connection dies: the outcome is unknown
                    return
                self._json(fake.pay_status, {} if fake.pay_status < 300 else {"error": "nope"})
            else:
                self._json(404, {})

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PROLIFIC_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PROLIFIC_API_TOKEN = "test-token"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def bonused_study() -> object:
    study = study_make(personas=1, k=3, n=1, checks=0)
    first = participant_complete(study, "p1")
    second = participant_complete(study, "p2")
    participant_complete(study, "p3")
    bonus_set(participant=first, amount=Decimal("1.5"))
    bonus_set(participant=second, amount=Decimal("0.25"))
    return study


def test_bulk_bonus_csv_has_no_header(bonused_study: object) -> None:
    assert bonus_csv(study=bonused_study) == "p1,1.50\np2,0.25\n"


def test_bonus_only_for_submitted_participants() -> None:
    study = study_make(personas=1, k=1)
    from annotation.services.slots import participant_enter

    participant = participant_enter(study=study, pid="active").participant
    with pytest.raises(BonusError, match="submitted"):
        bonus_set(participant=participant, amount=Decimal(1))


def test_two_step_payment(bonused_study: object, prolific: FakeProlific) -> None:
    payment = bonus_payment_setup(study=bonused_study)
    assert payment.status == BonusPayment.Status.SET_UP
    assert payment.prolific_id == "bulk123"
    assert payment.total == Decimal("1.75")
    _method, path, body, auth = prolific.calls[0]
    assert path == "/api/v1/submissions/bonus-payments/"
    assert body == {"study_id": "PS1", "csv_bonuses": "p1,1.50\np2,0.25\n"}
    assert auth == "Token test-token"
    payment = bonus_payment_pay(payment=payment)
    assert payment.status == BonusPayment.Status.PAID
    assert payment.paid_at
    # Paying again is refused without calling Prolific.
    with pytest.raises(BonusError, match="paid"):
        bonus_payment_pay(payment=payment)
    assert [c[1] for c in prolific.calls].count("/api/v1/bulk-bonus-payments/bulk123/pay/") == 1


def test_refused_pay_is_recorded_and_never_retried(bonused_study: object, prolific: FakeProlific) -> None:
    prolific.pay_status = 400
    payment = bonus_payment_pay(payment=bonus_payment_setup(study=bonused_study))
    assert payment.status == BonusPayment.Status.FAILED
    assert "400" in payment.error
    with pytest.raises(BonusError):
        bonus_payment_pay(payment=payment)
    assert len([c for c in prolific.calls if c[1].endswith("/pay/")]) == 1


@pytest.mark.parametrize("fault", ["drop", "500"])
def test_pay_with_no_clear_answer_is_unknown_and_blocks_until_resolved(
    bonused_study: object, prolific: FakeProlific, fault: str
) -> None:
    prolific.drop_pay = fault == "drop"
    prolific.pay_status = 500 if fault == "500" else 200
    payment = bonus_payment_pay(payment=bonus_payment_setup(study=bonused_study))
    assert payment.status == BonusPayment.Status.UNKNOWN
    assert "Check the bonus on Prolific" in payment.error
    assert payment.pay_requested_at
    with pytest.raises(BonusError, match="outcome is unknown"):
        bonus_payment_setup(study=bonused_study)
    bonus_payment_resolve(payment=payment, paid=True)
    assert len([c for c in prolific.calls if c[1].endswith("/pay/")]) == 1
    # Everyone is covered by the resolved payment: nothing is set up twice.
    with pytest.raises(BonusError, match="not set up already"):
        bonus_payment_setup(study=bonused_study)


def test_no_token_means_csv_only(bonused_study: object, settings: object) -> None:
    settings.PROLIFIC_API_TOKEN = None
    with pytest.raises(BonusError, match="PROLIFIC_API_TOKEN"):
        bonus_payment_setup(study=bonused_study)
    assert not BonusPayment.objects.exists()


def test_bonus_pages(bonused_study: object, coordinator: object, prolific: FakeProlific) -> None:
    client = Client()
    client.force_login(coordinator)
    p3 = Participant.objects.get(prolific_pid="p3")
    url = reverse("study-bonuses", args=[bonused_study.pk])
    assert client.post(url, {f"bonus-{p3.pk}": "2"}).status_code == 302
    assert client.post(url, {f"bonus-{p3.pk}": "abc"}).status_code == 200
    p3.refresh_from_db()
    assert p3.bonus == Decimal("2.00")
    csv_body = client.get(reverse("study-bonuses-csv", args=[bonused_study.pk])).content.decode()
    assert csv_body.splitlines() == ["p1,1.50", "p2,0.25", "p3,2.00"]
    client.post(reverse("study-bonus-setup", args=[bonused_study.pk]))
    payment = BonusPayment.objects.get()
    client.post(reverse("study-bonus-pay", args=[bonused_study.pk, payment.pk]))
    client.post(reverse("study-bonus-pay", args=[bonused_study.pk, payment.pk]))
    payment.refresh_from_db()
    assert payment.status == BonusPayment.Status.PAID
    assert len([c for c in prolific.calls if c[1].endswith("/pay/")]) == 1
