"""The agents' free-text search (tickets/search.py): what it finds, and that it uses its index."""

import pytest
from django.db import connection

from tests.conftest import make_ticket
from tickets.models import Ticket
from tickets.search import SEARCH_TEXT_SQL, fold, like_pattern, search_text

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigram index exists on PostgreSQL only"
)


def found(term):
    return set(search_text(Ticket.objects.all(), term).values_list("name", flat=True))


def test_words_are_found_in_the_name_subject_message_and_address(db):
    make_ticket(name="Samuel Meza", message="El botón Guardar no responde.")
    make_ticket(name="Rosa Pinto", email="rpinto@mideplan.cl", message="Consulta de convenio")
    assert found("meza") == {"Samuel Meza"}
    assert found("GUARDAR") == {"Samuel Meza"}
    assert found("mideplan") == {"Rosa Pinto"}
    assert found("convenio") == {"Rosa Pinto"}
    assert found("inexistente") == set()


@on_postgresql
def test_on_postgresql_a_search_without_accents_finds_accented_text(db):
    make_ticket(name="Ana Núñez", message="La rendición de cuentas no se envía.")
    make_ticket(name="Otro", message="Cambio de clave")
    assert found("rendicion") == {"Ana Núñez"}
    assert found("nunez") == {"Ana Núñez"}
    assert found("RENDICIÓN") == {"Ana Núñez"}


@on_postgresql
def test_on_postgresql_the_search_is_served_by_the_trigram_index(db):
    make_ticket()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT id FROM tickets_ticket WHERE {SEARCH_TEXT_SQL} LIKE %s",
            [like_pattern(fold("rendición"))],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_search_trgm" in plan


@on_postgresql
def test_on_postgresql_the_folded_text_follows_every_change_of_the_four_fields(db, agent):
    t = make_ticket(name="Ana Núñez", message="La rendición no se envía.")
    assert found("nunez") == {"Ana Núñez"}
    Ticket.objects.filter(pk=t.pk).update(subject="Garantía vencida")
    assert found("garantia") == {"Ana Núñez"}
    # Erasure leaves no folded copy of what the requester wrote.
    t.anonymize()
    assert found("nunez") == found("rendicion") == found("garantia") == set()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {SEARCH_TEXT_SQL} FROM tickets_ticket WHERE id = %s", [t.pk])
        assert "nunez" not in cursor.fetchone()[0]


@on_postgresql
def test_on_postgresql_a_match_is_checked_against_the_stored_text_not_folded_again(db):
    # The index narrows the rows; the recheck reads the stored column, so no row is
    # folded again (unaccent on every candidate was the search's main cost).
    make_ticket()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = (
            search_text(Ticket.objects.all(), "rendicion").values("pk").query.sql_with_params()
        )
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_search_trgm" in plan
    assert "search_folded" in plan and "unaccent" not in plan


def test_the_pattern_treats_percent_and_underscore_as_text(db):
    make_ticket(name="Cien por ciento", message="Avance 100% del proyecto")
    make_ticket(name="Sin avance", message="Avance 1000 del proyecto")
    assert found("100%") == {"Cien por ciento"}
    assert like_pattern("a_b%") == "%a\\_b\\%%"


def test_folding_drops_accents_and_case_as_postgresql_does():
    assert fold("Rendición ÑUBLE Pingüino") == "rendicion nuble pinguino"
