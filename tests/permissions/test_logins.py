"""Guessing passwords: a few failures lock one account from one address for a while; the API has throttles."""

import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from rest_framework.throttling import UserRateThrottle

from tests.conftest import PASSWORD


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_five_times(client, username, address="10.0.0.1"):
    for _ in range(5):
        response = log_in(client, username, "a-wrong-guess", address)
    return response


def test_five_failed_logins_lock_the_account_from_that_address_with_a_chinese_message(client, county_clerk):
    fail_five_times(client, "lishi_clerk")
    response = log_in(client, "lishi_clerk", PASSWORD)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "15 分钟" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failed_logins_still_let_the_right_password_in(client, county_clerk):
    for _ in range(4):
        log_in(client, "lishi_clerk", "a-wrong-guess")
    response = log_in(client, "lishi_clerk", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(county_clerk.pk)


def test_a_locked_account_does_not_lock_another_account_from_the_same_address(client, county_clerk, county_head):
    fail_five_times(client, "lishi_clerk")
    response = log_in(client, "lishi_head", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(county_head.pk)


def test_a_locked_account_still_logs_in_from_another_address(client, county_clerk):
    fail_five_times(client, "lishi_clerk", address="10.0.0.1")
    response = log_in(client, "lishi_clerk", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, county_clerk):
    fail_five_times(client, "lishi_clerk")
    response = client.post(
        reverse("login"),
        {"username": "lishi_clerk", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.77",
    )
    assert response.status_code == 429


@pytest.fixture
def low_user_rate(monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "2/min"})
    yield
    cache.clear()


def test_an_api_client_over_its_rate_gets_a_json_429_in_chinese(client, county_clerk, low_user_rate):
    client.force_login(county_clerk)
    assert [client.get("/api/v1/rounds/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/rounds/")
    body = json.loads(response.content)
    assert response.status_code == 429
    assert body["code"] == "throttled"
    assert any("\u4e00" <= character <= "\u9fff" for character in body["detail"])


def test_axes_reset_lifts_the_lock(client, county_clerk):
    fail_five_times(client, "lishi_clerk")
    call_command("axes_reset", stdout=StringIO())
    assert log_in(client, "lishi_clerk", PASSWORD).status_code == 302
