"""The queue page kept rendered (tickets/admin/queue_page.py): what an agent sees is never stale."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from tests.conftest import make_ticket
from tickets.models import Status, Ticket

QUEUE = reverse("admin:tickets_ticket_changelist")
SANTIAGO = ZoneInfo("America/Santiago")


def csrf_token_in(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_repeated_view_of_an_unchanged_queue_is_not_rendered_again(agent_client, ticket):
    first = agent_client.get(QUEUE)
    again = agent_client.get(QUEUE)
    assert first.templates and not again.templates
    # The same page but for the CSRF token, which Django masks afresh on every request.
    unmasked = [
        re.sub(r'csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())
        for r in (first, again)
    ]
    assert unmasked[0] == unmasked[1]


def test_a_ticket_changed_without_the_verbs_shows_at_the_next_view(agent_client, ticket):
    agent_client.get(QUEUE)
    Ticket.objects.filter(pk=ticket.pk).update(subject="Cambiado por otro proceso")
    assert "Cambiado por otro proceso" in agent_client.get(QUEUE).content.decode()
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED)
    assert ticket.tracking_id not in agent_client.get(QUEUE).content.decode()


def test_a_new_ticket_changes_the_count_at_once(agent_client, ticket):
    assert "1 ticket" in agent_client.get(QUEUE).content.decode()
    make_ticket()
    assert "2 tickets" in agent_client.get(QUEUE).content.decode()


def test_two_agents_each_get_their_own_token_and_their_bulk_actions_work(agent, supervisor):
    ticket, other = make_ticket(), make_ticket()
    tokens = set()
    for user, chosen in ((agent, ticket), (supervisor, other)):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        browser.get(QUEUE)
        page = browser.get(QUEUE)
        assert not page.templates  # the kept page
        token = csrf_token_in(page.content.decode())
        tokens.add(token)
        r = browser.post(
            QUEUE,
            {
                "csrfmiddlewaretoken": token,
                "action": "assign_to_me",
                "_selected_action": [chosen.pk],
                "index": 0,
            },
        )
        assert r.status_code == 302
        chosen.refresh_from_db()
        assert chosen.assignee == user
    assert len(tokens) == 2


def test_my_tickets_is_each_agents_own_list(agent, supervisor):
    mine, theirs = make_ticket(name="De Bruno"), make_ticket(name="De Carla")
    Ticket.objects.filter(pk=mine.pk).update(assignee=agent)
    Ticket.objects.filter(pk=theirs.pk).update(assignee=supervisor)
    pages = {}
    for user in (agent, supervisor):
        browser = Client()
        browser.force_login(user)
        browser.get(QUEUE, {"asignado": "yo"})
        pages[user.username] = browser.get(QUEUE, {"asignado": "yo"}).content.decode()
    assert "De Bruno" in pages["bruno"] and "De Carla" not in pages["bruno"]
    assert "De Carla" in pages["carla"] and "De Bruno" not in pages["carla"]


def test_a_permission_granted_shows_at_the_next_view(agent_client, agent, ticket):
    export = reverse("admin:tickets_ticket_export", args=["csv"])
    assert export not in agent_client.get(QUEUE).content.decode()
    agent.user_permissions.add(
        Permission.objects.get(codename="view_reports", content_type__app_label="tickets")
    )
    assert export in agent_client.get(QUEUE).content.decode()


def test_the_message_after_a_bulk_action_is_shown_once(agent_client, ticket):
    agent_client.get(QUEUE)
    r = agent_client.post(
        QUEUE, {"action": "assign_to_me", "_selected_action": [ticket.pk], "index": 0}, follow=True
    )
    assert "Bruno Díaz" in r.content.decode()
    messages_shown = [m.message for m in r.context["messages"]]
    assert messages_shown
    assert messages_shown[0] not in agent_client.get(QUEUE).content.decode()


def test_the_deadline_words_follow_the_clock(agent_client):
    with time_machine.travel(datetime(2026, 3, 4, 9, tzinfo=SANTIAGO), tick=False) as clock:
        ticket = make_ticket()
        Ticket.objects.filter(pk=ticket.pk).update(
            staff_due_at=datetime(2026, 3, 4, 15, tzinfo=SANTIAGO)
        )
        assert "vence en 6 h hábiles" in agent_client.get(QUEUE).content.decode()
        clock.shift(timedelta(hours=3))
        assert "vence en 3 h hábiles" in agent_client.get(QUEUE).content.decode()


@pytest.mark.parametrize("language", ["es", "en"])
def test_each_language_gets_its_own_page(agent_client, ticket, language):
    agent_client.get(QUEUE, headers={"accept-language": "es"})
    html = agent_client.get(QUEUE, headers={"accept-language": language}).content.decode()
    assert f'<html lang="{language}"' in html


def test_a_staff_user_without_the_permission_is_not_shown_the_kept_page(agent_client, ticket):
    agent_client.get(QUEUE)
    User.objects.filter(username="bruno").update(is_staff=False)
    assert agent_client.get(QUEUE).status_code == 302
