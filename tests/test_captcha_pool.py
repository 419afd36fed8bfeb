"""The pool of ready captchas: a form shown writes nothing, and each answer is still one-time."""

import pytest
from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.core.management import call_command

from tickets.captcha import refill_pool

FORM = "/ticket/nuevo/"


@pytest.fixture
def pool(settings, monkeypatch, strict_captcha):
    settings.CAPTCHA_GET_FROM_POOL = True
    settings.CAPTCHA_POOL_SIZE = 5
    # django-simple-captcha copied its settings at import.
    monkeypatch.setattr(captcha_settings, "CAPTCHA_GET_FROM_POOL", True)
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TIMEOUT", 20)
    monkeypatch.setattr(captcha_settings, "CAPTCHA_GET_FROM_POOL_TIMEOUT", 10)
    refill_pool()


def test_with_the_pool_showing_the_form_writes_no_captcha(
    client, db, pool, django_assert_num_queries
):
    assert CaptchaStore.objects.count() == 5
    for _ in range(3):
        assert client.get(FORM).status_code == 200
    assert CaptchaStore.objects.count() == 5


def test_without_the_pool_each_form_shown_writes_a_captcha(client, db):
    before = CaptchaStore.objects.count()
    client.get(FORM)
    client.get(FORM)
    assert CaptchaStore.objects.count() == before + 2


def test_a_pooled_captcha_answered_once_cannot_be_answered_again(client, db, pool):
    store = CaptchaStore.objects.first()
    form = {"captcha_0": store.hashkey, "captcha_1": store.response}
    client.post(FORM, form)
    assert not CaptchaStore.objects.filter(pk=store.pk).exists()


def test_refilling_tops_up_to_the_size_and_only_that(db, pool, settings):
    assert refill_pool() == 0
    CaptchaStore.objects.filter(
        pk__in=list(CaptchaStore.objects.values_list("pk", flat=True)[:2])
    ).delete()
    assert refill_pool() == 2
    assert CaptchaStore.objects.count() == 5


def test_the_cron_command_reports_what_it_added(db, pool, capsys):
    call_command("refill_captcha_pool")
    assert capsys.readouterr().out.strip() == "captcha pool: added 0, size 5"
