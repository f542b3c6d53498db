"""Login throttling: wrong passwords for one account, or from one address, lock logins out for a while."""

from __future__ import annotations

import random

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

LOGIN_URLS = [reverse("login"), reverse("admin:login")]


def _address() -> str:
    """A fresh client address per test: the counts live in a cache shared with other tests and runs."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _attempt(client: Client, url: str, username: str, password: str, ip: str) -> object:
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
@pytest.mark.parametrize("url", LOGIN_URLS)
def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(settings, url, password):
    user = UserFactory(is_staff=True)
    client, ip = Client(), _address()
    statuses = [
        _attempt(client, url, user.username, "wrong", ip).status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = _attempt(client, url, user.username, password, ip)
    assert locked.status_code == 429
    assert b"Too many login attempts" in locked.content
    # Per account: another address with the right password is refused too.
    assert _attempt(Client(), url, user.username, password, _address()).status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_one_address_trying_many_accounts_is_locked_out(settings, password):
    users = UserFactory.create_batch(settings.AXES_FAILURE_LIMIT + 1)
    client, ip = Client(), _address()
    for user in users[:-1]:
        _attempt(client, LOGIN_URLS[0], user.username, "wrong", ip)
    assert _attempt(client, LOGIN_URLS[0], users[-1].username, password, ip).status_code == 429
    # The same account from another address still logs in: it had no wrong password.
    assert _attempt(Client(), LOGIN_URLS[0], users[-1].username, password, _address()).status_code == 302


@pytest.mark.django_db
def test_a_few_typos_then_the_right_password_logs_in(password):
    user = UserFactory()
    client, ip = Client(), _address()
    for _ in range(3):
        assert _attempt(client, LOGIN_URLS[0], user.username, "typo", ip).status_code == 200
    assert _attempt(client, LOGIN_URLS[0], user.username, password, ip).status_code == 302
