"""The access log: who opened a ticket or one of its files, when, from where (Ley 21.719)."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.conftest import make_ticket, pdf, ticket_form_data
from tickets.models import AccessLog, Attachment

Kind = AccessLog.Kind
LIST = reverse("admin:tickets_accesslog_changelist")


def admin_page(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def admin_download(ticket, attachment):
    return reverse("admin:tickets_ticket_attachment", args=[ticket.pk, attachment.pk])


def rows():
    return list(
        AccessLog.objects.order_by("pk").values_list(
            "ticket_id", "kind", "user__username", "ip_address"
        )
    )


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "clave-de-prueba-123")


@pytest.fixture
def entry(ticket, agent):
    """One row, written the way the portal writes them."""
    return AccessLog.objects.create(
        ticket=ticket, kind=Kind.ADMIN_VIEW, user=agent, ip_address="10.0.0.7"
    )


# --- what is recorded ---------------------------------------------------------------------------
def test_opening_a_ticket_in_admin_is_recorded_with_who_and_from_where(client, agent, ticket):
    client.force_login(agent)
    assert client.get(admin_page(ticket), REMOTE_ADDR="10.1.2.3").status_code == 200
    assert rows() == [(ticket.pk, Kind.ADMIN_VIEW, "bruno", "10.1.2.3")]


def test_the_queue_saving_and_a_missing_ticket_are_not_views_of_a_ticket(client, agent, ticket):
    client.force_login(agent)
    assert client.get(reverse("admin:tickets_ticket_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk + 100])).status_code
        == 302
    )
    assert (
        client.post(admin_page(ticket), ticket_form_data(ticket, status="in_progress")).status_code
        == 302
    )
    assert rows() == []


def test_staff_without_a_role_opening_a_ticket_leaves_no_row(client, ticket):
    client.force_login(User.objects.create_user("sinrol", "s@example.org", "x" * 12, is_staff=True))
    assert client.get(admin_page(ticket)).status_code == 403
    assert rows() == []


def test_a_staff_download_is_recorded(client, agent, db):
    t = make_ticket(files=[pdf()])
    a = Attachment.objects.get()
    client.force_login(agent)
    assert client.get(admin_download(t, a)).status_code == 200
    assert rows() == [(t.pk, Kind.ADMIN_DOWNLOAD, "bruno", "127.0.0.1")]


def test_a_staff_download_of_a_missing_attachment_leaves_no_row(client, agent, ticket):
    client.force_login(agent)
    assert (
        client.get(reverse("admin:tickets_ticket_attachment", args=[ticket.pk, 999])).status_code
        == 404
    )
    assert rows() == []


def test_a_public_view_is_recorded_with_the_ip_and_no_user(client, ticket):
    assert client.get(ticket.get_absolute_url(), REMOTE_ADDR="200.1.2.3").status_code == 200
    assert rows() == [(ticket.pk, Kind.PUBLIC_VIEW, None, "200.1.2.3")]


def test_a_staff_member_on_the_public_page_is_still_a_public_view(client, agent, ticket):
    client.force_login(agent)
    client.get(ticket.get_absolute_url())
    assert rows() == [(ticket.pk, Kind.PUBLIC_VIEW, None, "127.0.0.1")]


def test_an_unknown_tracking_id_leaves_no_row(client, ticket):
    assert client.get("/ticket/AAA-BBB-2222/").status_code == 404
    assert rows() == []


def test_a_public_download_is_recorded(client, db):
    t = make_ticket(files=[pdf()])
    a = Attachment.objects.get()
    assert (
        client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/", REMOTE_ADDR="200.1.2.3").status_code
        == 200
    )
    assert rows() == [(t.pk, Kind.PUBLIC_DOWNLOAD, None, "200.1.2.3")]


def test_a_refused_public_download_leaves_no_row(client, agent, db):
    t = make_ticket()
    note = t.add_agent_reply(
        user=agent, message="interno", kind="internal", files=[pdf("interno.pdf")]
    )
    a = note.attachments.get()
    assert client.get(f"/ticket/{t.tracking_id}/adjunto/{a.pk}/").status_code == 404
    assert rows() == []


def test_the_ip_comes_from_the_trusted_proxy_not_a_forged_header(client, ticket, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.get(
        ticket.get_absolute_url(), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 200.1.2.3"
    )
    assert rows()[0][3] == "200.1.2.3"


# --- supervisors read it -----------------------------------------------------------------------------
def test_a_supervisor_lists_who_accessed_a_ticket(client, supervisor, agent, db):
    mine, other = make_ticket(), make_ticket(email="otra@example.org")
    AccessLog.objects.create(ticket=mine, kind=Kind.ADMIN_VIEW, user=agent, ip_address="10.0.0.7")
    AccessLog.objects.create(ticket=other, kind=Kind.PUBLIC_VIEW, ip_address="200.9.9.9")
    client.force_login(supervisor)
    html = client.get(LIST, {"ticket__id__exact": mine.pk}).content.decode()
    assert "Bruno Díaz" in html and "10.0.0.7" in html
    assert "200.9.9.9" not in html


@pytest.mark.parametrize("how", ["number", "tracking_id", "tracking_id_without_dashes"])
def test_a_supervisor_searches_the_log_by_ticket_number_or_tracking_id(
    client, supervisor, agent, db, how
):
    mine, other = make_ticket(), make_ticket(email="otra@example.org")
    AccessLog.objects.create(ticket=mine, kind=Kind.ADMIN_VIEW, user=agent, ip_address="10.0.0.7")
    AccessLog.objects.create(ticket=other, kind=Kind.PUBLIC_VIEW, ip_address="200.9.9.9")
    term = {
        "number": f"#{mine.number}",
        "tracking_id": mine.tracking_id,
        "tracking_id_without_dashes": mine.tracking_id.replace("-", "").lower(),
    }[how]
    client.force_login(supervisor)
    html = client.get(LIST, {"q": term}).content.decode()
    assert "10.0.0.7" in html and "200.9.9.9" not in html


def test_the_log_filters_by_kind(client, supervisor, agent, ticket):
    AccessLog.objects.create(ticket=ticket, kind=Kind.ADMIN_VIEW, user=agent, ip_address="10.0.0.7")
    AccessLog.objects.create(ticket=ticket, kind=Kind.PUBLIC_DOWNLOAD, ip_address="200.9.9.9")
    client.force_login(supervisor)
    html = client.get(LIST, {"kind__exact": "public_download"}).content.decode()
    assert "200.9.9.9" in html and "10.0.0.7" not in html


def test_the_ticket_page_links_supervisors_to_its_access_log(client, supervisor, ticket):
    client.force_login(supervisor)
    html = client.get(admin_page(ticket)).content.decode()
    assert f'href="{LIST}?ticket__id__exact={ticket.pk}"' in html


def test_agents_neither_see_the_link_nor_open_the_log(client, agent, entry):
    client.force_login(agent)
    assert LIST not in client.get(admin_page(entry.ticket)).content.decode()
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("admin:tickets_accesslog_change", args=[entry.pk])).status_code == 403


# --- appended only --------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["supervisor", "superuser"])
def test_nobody_edits_deletes_or_adds_a_row_through_admin(client, request, who, entry):
    client.force_login(request.getfixturevalue(who))
    change = reverse("admin:tickets_accesslog_change", args=[entry.pk])
    assert client.get(change).status_code == 200  # read-only view
    assert client.post(change, {"kind": "public_view", "ip_address": "1.1.1.1"}).status_code == 403
    delete = reverse("admin:tickets_accesslog_delete", args=[entry.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    r = client.post(
        LIST, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert r.status_code in (200, 302)
    assert client.get(reverse("admin:tickets_accesslog_add")).status_code == 403
    entry.refresh_from_db()
    assert (entry.kind, entry.ip_address) == (Kind.ADMIN_VIEW, "10.0.0.7")
    assert AccessLog.objects.count() == 1
