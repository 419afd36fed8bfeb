"""HESK's old addresses (tickets/views/hesk_links.py) land on our pages, with our checks."""

import pytest
from django.urls import reverse

from tests.conftest import make_ticket, pdf
from tickets.models import Attachment


@pytest.fixture
def imported(db):
    """A ticket as import_hesk leaves it: its file carries HESK's att_id."""
    ticket = make_ticket(files=[pdf("publico.pdf")])
    ticket.attachments.update(hesk_id=41)
    return ticket


@pytest.fixture
def with_note_file(imported, agent):
    ticket = imported
    note = ticket.add_agent_reply(
        user=agent, message="Nota", kind="internal", files=[pdf("nota.pdf")]
    )
    Attachment.objects.filter(reply=note).update(hesk_id=42)
    return ticket


def test_ticket_php_redirects_permanently_to_the_ticket_page(client, imported):
    ticket = imported
    response = client.get(f"/ticket.php?track={ticket.tracking_id}&e=otro@example.cl&Refresh=123")
    assert response.status_code == 301
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.tracking_id])
    # And the page it lands on is the conversation.
    assert ticket.subject in client.get(response["Location"]).content.decode()


def test_ticket_php_accepts_the_id_without_dashes_or_in_a_subfolder(client, imported):
    ticket = imported
    raw = ticket.tracking_id.replace("-", "").lower()
    response = client.get(f"/soporte/ticket.php?track={raw}")
    assert response.status_code == 301
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.tracking_id])


def test_ticket_php_with_an_unknown_id_answers_our_404(client, imported):
    response = client.get("/ticket.php?track=AAA-BBB-2222&e=alicia@desarrollosocial.gob.cl")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]


def test_failed_old_links_count_against_the_same_lookup_limit(client, imported, settings):
    settings.RATELIMIT_LOOKUP = "3/h"
    ticket = imported
    for _ in range(3):
        assert client.get("/ticket.php?track=AAA-BBB-2222").status_code == 404
    # Over the limit: even a good ID waits, as on our own look-up page.
    assert client.get(f"/ticket.php?track={ticket.tracking_id}").status_code == 429
    assert client.get(reverse("tickets:ticket", args=[ticket.tracking_id])).status_code == 429


def test_with_lookup_by_email_the_old_link_reveals_nothing(client, imported, settings):
    settings.LOOKUP_REQUIRES_EMAIL = True
    ticket = imported
    known = client.get(f"/ticket.php?track={ticket.tracking_id}")
    unknown = client.get("/ticket.php?track=AAA-BBB-2222")
    assert known.status_code == unknown.status_code == 301
    # Our page then asks for the e-mail, for both alike.
    assert client.get(known["Location"])["Location"].startswith(reverse("tickets:lookup"))
    assert client.get(unknown["Location"])["Location"].startswith(reverse("tickets:lookup"))


def test_print_php_redirects_to_the_ticket_page(client, imported):
    ticket = imported
    response = client.get(f"/print.php?track={ticket.tracking_id}")
    assert response.status_code == 301
    assert response["Location"] == reverse("tickets:ticket", args=[ticket.tracking_id])


def test_download_attachment_php_redirects_to_the_same_file(client, imported):
    ticket = imported
    f = ticket.attachments.get(hesk_id=41)
    response = client.get(f"/download_attachment.php?att_id=41&track={ticket.tracking_id}")
    assert response.status_code == 301
    assert response["Location"] == reverse("tickets:attachment", args=[ticket.tracking_id, f.pk])
    download = client.get(response["Location"])
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_download_attachment_php_refuses_another_tickets_file(client, imported):
    ticket = imported
    other = make_ticket()
    response = client.get(f"/download_attachment.php?att_id=41&track={other.tracking_id}")
    assert response.status_code == 404
    response = client.get(f"/download_attachment.php?att_id=x&track={ticket.tracking_id}")
    assert response.status_code == 404


def test_download_attachment_php_never_serves_a_notes_file(client, with_note_file):
    ticket = with_note_file
    response = client.get(f"/download_attachment.php?att_id=42&track={ticket.tracking_id}")
    assert response.status_code == 404
    response = client.get(f"/download_attachment.php?att_id=41&track={ticket.tracking_id}")
    assert response.status_code == 301


@pytest.mark.parametrize(
    "old, ours",
    [
        ("/index.php?a=add", "tickets:submit"),
        ("/index.php?a=forgot_tid", "tickets:forgotten_id"),
        ("/index.php", "tickets:home"),
        ("/knowledgebase.php?article=3", "tickets:home"),
        ("/ayuda/index.php?a=add&category=2", "tickets:submit"),
    ],
)
def test_old_public_pages_redirect_to_ours(client, db, old, ours):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == reverse(ours)


def test_old_admin_ticket_link_asks_for_a_login_first(client, imported):
    ticket = imported
    response = client.get(f"/admin/admin_ticket.php?track={ticket.tracking_id}")
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_old_admin_ticket_link_opens_our_admin_ticket_page(client, imported, agent):
    ticket = imported
    client.force_login(agent)
    response = client.get(f"/admin/admin_ticket.php?track={ticket.tracking_id}&Refresh=1")
    assert response.status_code == 301
    assert response["Location"] == reverse("admin:tickets_ticket_change", args=[ticket.pk])
    assert client.get("/admin/admin_ticket.php?track=AAA-BBB-2222").status_code == 404
