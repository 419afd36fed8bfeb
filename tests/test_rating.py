"""¿Cómo fue la atención?: the satisfaction rating of a resolved or closed ticket."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_ticket
from tickets import ratings
from tickets.models import OutgoingEmail, Rating, Status, Ticket


@pytest.fixture
def resolved(agent):
    t = make_ticket()
    t.change(user=agent, status=Status.RESOLVED)
    return t


def rating_link(ticket) -> str:
    body = OutgoingEmail.objects.filter(ticket=ticket, kind="ticket_resolved").get().body_text
    return re.search(r"https?://\S+/calificacion/\S+/", body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# --- the token ----------------------------------------------------------------------
def test_a_token_names_the_ticket_and_its_resolution(resolved):
    pk, resolution = ratings.read_token(ratings.token_for(resolved))
    assert pk == resolved.pk
    assert ratings.names_resolution(resolution, resolved.closed_at)


def test_a_token_altered_to_name_another_ticket_is_refused(resolved):
    token = ratings.token_for(resolved)
    payload, rest = token.split(":", 1)
    forged = signing.b64_encode(f'{{"t":{resolved.pk + 1},"r":1}}'.encode()).decode()
    with pytest.raises(ratings.BadLink):
        ratings.read_token(f"{forged}:{rest}")
    assert ratings.read_token(token)[0] == resolved.pk


def test_a_token_signed_for_another_purpose_is_refused(resolved):
    other = signing.dumps({"t": resolved.pk, "r": 1}, salt="something.else")
    with pytest.raises(ratings.BadLink):
        ratings.read_token(other)


def test_a_token_expires_after_the_rating_window(resolved, settings):
    token = ratings.token_for(resolved)
    late = timezone.now() + timedelta(days=settings.RATING_WINDOW_DAYS + 1)
    with time_machine.travel(late), pytest.raises(ratings.BadLink):
        ratings.read_token(token)
    with time_machine.travel(timezone.now() + timedelta(days=settings.RATING_WINDOW_DAYS - 1)):
        assert ratings.read_token(token)[0] == resolved.pk


def test_a_token_is_what_django_signing_dumps_makes_so_links_already_sent_keep_working(resolved):
    with time_machine.travel(timezone.now(), tick=False):
        expected = signing.dumps(
            {"t": resolved.pk, "r": int(resolved.closed_at.timestamp())},
            salt=ratings.SALT,
            compress=False,
        )
        assert ratings.token_for(resolved) == expected
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        assert ratings.token_for(resolved) != expected


def test_a_batch_of_links_is_the_link_of_each_ticket_alone(agent):
    tickets = [make_ticket(), make_ticket()]
    for t in tickets:
        t.change(user=agent, status=Status.RESOLVED)
    with time_machine.travel(timezone.now(), tick=False):
        urls = ratings.rating_urls(tickets)
        assert urls == {t.pk: ratings.rating_url(t) for t in tickets}
    assert urls[tickets[0].pk] != urls[tickets[1].pk]


# --- the e-mail link ----------------------------------------------------------------
def test_the_resolved_email_carries_a_rating_link_in_both_bodies(resolved):
    mail = OutgoingEmail.objects.get(ticket=resolved, kind="ticket_resolved")
    link = rating_link(resolved)
    assert "¿Cómo fue la atención?" in mail.body_text
    assert link in mail.body_html
    assert resolved.tracking_id not in link


def test_the_closed_by_staff_email_carries_a_rating_link_in_both_bodies(agent):
    t = make_ticket()
    t.change(user=agent, status=Status.CLOSED)
    mail = OutgoingEmail.objects.get(ticket=t, kind="ticket_closed")
    link = re.search(r"https?://\S+/calificacion/\S+/", mail.body_text).group(0)
    assert link in mail.body_html
    assert ratings.read_token(link.rstrip("/").rsplit("/", 1)[1])[0] == t.pk


def test_the_automatic_closing_email_carries_a_rating_link(agent):
    t = make_ticket()
    t.add_agent_reply(user=agent, message="Necesito el convenio.", kind="information")
    t.refresh_from_db()
    assert t.close_stalled(now=t.requester_due_at + timedelta(minutes=1))
    mail = OutgoingEmail.objects.get(ticket=t, kind="ticket_closed_automatically")
    assert "/calificacion/" in mail.body_text
    assert not OutgoingEmail.objects.filter(ticket=t, body_text__contains="/calificacion/").exclude(
        kind="ticket_closed_automatically"
    )


def test_the_link_rates_the_ticket_without_its_tracking_id(client, resolved):
    url = path_of(rating_link(resolved))
    page = client.get(url)
    assert page.status_code == 200
    assert "¿Cómo fue la atención?" in page.content.decode()
    response = client.post(url, {"score": "4", "comment": "Rápido y claro."})
    assert response.status_code == 302 and response["Location"] == url
    rating = Rating.objects.get()
    assert (rating.ticket, rating.score, rating.comment) == (resolved, 4, "Rápido y claro.")
    assert rating.resolved_at == resolved.closed_at


def test_the_link_changes_the_rating_instead_of_adding_one(client, resolved):
    url = path_of(rating_link(resolved))
    client.post(url, {"score": "2"})
    client.post(url, {"score": "5", "comment": "Lo resolvieron al final."})
    assert list(Rating.objects.values_list("score", "comment")) == [(5, "Lo resolvieron al final.")]
    assert "Usted calificó la atención con 5 de 5" in client.get(url).content.decode()


def test_a_broken_link_says_so_and_rates_nothing(client, resolved):
    url = path_of(rating_link(resolved))
    broken = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    response = client.post(broken, {"score": "1"})
    assert response.status_code == 404
    assert "Este enlace ya no sirve para calificar" in response.content.decode()
    assert not Rating.objects.exists()


def test_the_link_of_an_earlier_resolution_cannot_rate_the_next_one(client, resolved, agent):
    old_url = path_of(rating_link(resolved))
    resolved.add_requester_reply(message="Volvió a fallar.")
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        resolved.change(user=agent, status=Status.RESOLVED)
    assert client.post(old_url, {"score": "1"}).status_code == 404
    assert not Rating.objects.exists()
    new_mail = OutgoingEmail.objects.filter(ticket=resolved, kind="ticket_resolved").latest("pk")
    new_url = path_of(re.search(r"https?://\S+/calificacion/\S+/", new_mail.body_text).group(0))
    assert client.post(new_url, {"score": "5"}).status_code == 302


def test_a_reopened_and_resolved_again_ticket_is_rated_again(client, resolved, agent):
    Rating.rate(resolved, score=2)
    resolved.add_requester_reply(message="Volvió a fallar.")
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        resolved.change(user=agent, status=Status.RESOLVED)
    assert Rating.current(resolved) is None
    Rating.rate(resolved, score=5)
    assert sorted(Rating.objects.values_list("score", flat=True)) == [2, 5]


def test_resolved_then_closed_is_the_same_resolution(resolved, agent):
    Rating.rate(resolved, score=4)
    closed_at = resolved.closed_at
    resolved.change(user=agent, status=Status.CLOSED)
    resolved.refresh_from_db()
    assert resolved.closed_at == closed_at
    assert Rating.current(resolved).score == 4


# --- on the ticket page -------------------------------------------------------------
def test_the_ticket_page_asks_once_the_ticket_is_resolved(client, resolved):
    html = client.get(resolved.get_absolute_url()).content.decode()
    assert "¿Cómo fue la atención?" in html and "Enviar calificación" in html


def test_an_open_ticket_page_does_not_ask(client, ticket):
    html = client.get(ticket.get_absolute_url()).content.decode()
    assert "¿Cómo fue la atención?" not in html


def test_the_ticket_page_rates_and_shows_the_rating(client, resolved):
    url = reverse("tickets:rate", args=[resolved.tracking_id])
    response = client.post(url, {"score": "3", "comment": ""})
    assert response.status_code == 302
    assert response["Location"] == resolved.get_absolute_url() + "#calificacion"
    html = client.get(resolved.get_absolute_url()).content.decode()
    assert "Usted calificó la atención con 3 de 5 (Regular)." in html
    assert "Cambiar calificación" in html
    assert Rating.objects.get().score == 3


def test_a_rating_without_a_score_is_refused_with_a_message(client, resolved):
    url = reverse("tickets:rate", args=[resolved.tracking_id])
    response = client.post(url, {"comment": "Sin nota"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Elija una calificación de 1 (muy mala) a 5 (muy buena)." in html
    assert "Sin nota" in html
    assert not Rating.objects.exists()


@pytest.mark.parametrize("score", ["0", "6", "cinco"])
def test_a_score_outside_one_to_five_is_refused(client, resolved, score):
    client.post(reverse("tickets:rate", args=[resolved.tracking_id]), {"score": score})
    assert not Rating.objects.exists()


def test_an_open_ticket_cannot_be_rated(client, ticket):
    response = client.post(reverse("tickets:rate", args=[ticket.tracking_id]), {"score": "5"})
    assert response.status_code == 302
    assert not Rating.objects.exists()


def test_after_the_window_the_rating_can_no_longer_change(client, resolved, settings):
    Rating.rate(resolved, score=2)
    later = timezone.now() + timedelta(days=settings.RATING_WINDOW_DAYS + 1)
    with time_machine.travel(later):
        client.post(reverse("tickets:rate", args=[resolved.tracking_id]), {"score": "5"})
        html = client.get(resolved.get_absolute_url()).content.decode()
    assert Rating.objects.get().score == 2
    assert "Usted calificó la atención con 2 de 5" in html
    assert "Cambiar calificación" not in html


def test_an_unknown_ticket_cannot_be_rated(client, db):
    response = client.post(reverse("tickets:rate", args=["AAA-BBB-2222"]), {"score": "5"})
    assert response.status_code == 404


# --- for staff and reports ----------------------------------------------------------
def test_the_queue_shows_the_score_without_a_query_per_ticket(
    client, supervisor, agent, django_assert_max_num_queries
):
    client.force_login(supervisor)
    for score in (1, 4):
        t = make_ticket()
        t.change(user=agent, status=Status.RESOLVED)
        Rating.rate(t, score=score)
    url = reverse("admin:tickets_ticket_changelist") + "?estado=todos"
    client.get(url)
    with django_assert_max_num_queries(30) as few:
        html = client.get(url).content.decode()
    # Counted now: the next request's request_started clears the connection's query log.
    queries = len(few.captured_queries)
    for _ in range(5):
        t = make_ticket()
        t.change(user=agent, status=Status.RESOLVED)
        Rating.rate(t, score=3)
    with django_assert_max_num_queries(queries):
        client.get(url)
    assert '<span class="rating-score">4/5</span>' in html
    assert '<span class="rating-score">1/5</span>' in html
    assert '<span class="rating-score">5/5</span>' not in html


def test_the_ticket_page_in_admin_shows_the_rating_and_comment(client, supervisor, resolved):
    client.force_login(supervisor)
    url = reverse("admin:tickets_ticket_change", args=[resolved.pk])
    assert "Sin calificación" in client.get(url).content.decode()
    Rating.rate(resolved, score=5, comment="Muy amables")
    html = client.get(url).content.decode()
    assert "<strong>5/5</strong> · Muy buena" in html and "Muy amables" in html


def test_every_resolutions_rating_comes_in_the_tickets_own_query_newest_first(
    client, supervisor, agent, resolved, django_assert_num_queries
):
    Rating.rate(resolved, score=2, comment="Lento")
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        resolved.add_requester_reply(message="Volvió a fallar")
        resolved.change(user=agent, status=Status.RESOLVED)
        Rating.rate(resolved, score=5, comment="Bien <b>")
    stored = [
        (r.pk, r.resolved_at, r.score, r.comment, r.created_at, r.updated_at)
        for r in resolved.ratings.all()
    ]
    folded = Rating.folded_into(Ticket.objects.all()).get(pk=resolved.pk)
    with django_assert_num_queries(0):
        shown = Rating.of(folded)
    assert [
        (r.pk, r.resolved_at, r.score, r.comment, r.created_at, r.updated_at) for r in shown
    ] == stored
    assert [r.score for r in shown] == [5, 2]
    client.force_login(supervisor)
    html = client.get(reverse("admin:tickets_ticket_change", args=[resolved.pk])).content.decode()
    assert re.search(
        r"<strong>5/5</strong> · Muy buena · [^<]+ — «Bien &lt;b&gt;»<br>"
        r"<strong>2/5</strong> · Mala · [^<]+ — «Lento»",
        html,
    )


def test_a_ticket_never_rated_has_no_ratings_folded(ticket):
    assert Rating.of(Rating.folded_into(Ticket.objects.all()).get(pk=ticket.pk)) == []
    assert Rating.of(ticket) == []


def test_the_summary_counts_and_averages_any_set_of_ratings(db, agent):
    assert ratings.summary(Rating.objects.all()) == {
        "count": 0,
        "average": None,
        "by_score": {1: 0, 2: 0, 3: 0, 4: 0, 5: 0},
    }
    for score in (5, 4, 4):
        t = make_ticket()
        t.change(user=agent, status=Status.RESOLVED)
        Rating.rate(t, score=score)
    result = ratings.summary(Rating.objects.all())
    assert result == {"count": 3, "average": 4.33, "by_score": {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}}
    assert ratings.summary(Rating.objects.filter(score=5))["count"] == 1


def test_anonymizing_a_ticket_erases_the_rating_comment_but_keeps_the_score(resolved):
    Rating.rate(resolved, score=3, comment="Me atendió Juan Pérez, 9 8765 4321")
    Ticket.objects.get(pk=resolved.pk).anonymize()
    assert list(Rating.objects.values_list("score", "comment")) == [(3, "")]
