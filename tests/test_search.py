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


def test_the_pattern_treats_percent_and_underscore_as_text(db):
    make_ticket(name="Cien por ciento", message="Avance 100% del proyecto")
    make_ticket(name="Sin avance", message="Avance 1000 del proyecto")
    assert found("100%") == {"Cien por ciento"}
    assert like_pattern("a_b%") == "%a\\_b\\%%"


def test_folding_drops_accents_and_case_as_postgresql_does():
    assert fold("Rendición ÑUBLE Pingüino") == "rendicion nuble pinguino"
