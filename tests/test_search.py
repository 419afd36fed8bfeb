"""The agents' free-text search (tickets/search.py): what it finds, and that it uses its index."""

import json

import pytest
from django.db import connection

from tests.conftest import make_ticket
from tickets import search
from tickets.models import Ticket
from tickets.search import SEARCH_TEXT_SQL, fold, like_pattern, search_text, word_start_pattern

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


# --- terms of one or two characters: the start of a word ----------------------------------
def test_two_letters_find_words_that_start_with_them_and_not_the_middle_of_a_word(db):
    make_ticket(name="Pedro Soto", message="Consulta de convenio")
    make_ticket(name="Rosa Díaz", email="rosa.pezoa@example.org", message="Consulta")
    make_ticket(name="Luis Vera", message="Consulta.\nPendiente la firma (periodo 2026).")
    make_ticket(name="Ana Lopez", message="Aparece un error al guardar")
    assert found("pe") == {"Pedro Soto", "Rosa Díaz", "Luis Vera"}
    assert found("PE") == {"Pedro Soto", "Rosa Díaz", "Luis Vera"}
    assert found("ez") == set()
    assert found("op") == set()


def test_one_letter_finds_words_that_start_with_it(db):
    make_ticket(name="Juan Soto", message="Consulta")
    make_ticket(name="Ana Rojas", message="Consulta")
    assert found("j") == {"Juan Soto"}
    assert found("r") == {"Ana Rojas"}
    assert found("t") == set()


def test_a_short_term_without_a_letter_or_digit_finds_nothing(db):
    make_ticket(name="Ana Rojas", message="¿Qué pasa? -- no sé")
    assert found("?") == found("--") == set()
    assert found("qu") == {"Ana Rojas"}


@on_postgresql
def test_on_postgresql_two_letters_ignore_accents_at_the_start_of_a_word(db):
    make_ticket(name="Ana Núñez", message="Consulta")
    make_ticket(name="Luis Ñuble", message="Consulta")
    assert found("nu") == {"Ana Núñez", "Luis Ñuble"}
    assert found("ÑU") == {"Ana Núñez", "Luis Ñuble"}
    assert found("ez") == set()


@on_postgresql
@pytest.mark.parametrize("few_matches", [1000, 1])
def test_on_postgresql_a_short_term_finds_the_same_tickets_whether_few_or_many_match(
    db, monkeypatch, few_matches
):
    # Up to FEW_MATCHES are fetched by id, more are searched in the text: the same tickets.
    monkeypatch.setattr(search, "FEW_MATCHES", few_matches)
    make_ticket(name="Pedro Soto", message="Consulta")
    make_ticket(name="Paula Pérez", message="Consulta")
    make_ticket(name="Ana Lopez", message="Consulta")
    assert found("pe") == {"Pedro Soto", "Paula Pérez"}
    assert found("qq") == set()
    assert search_text(Ticket.objects.all(), "pe").count() == 2


@on_postgresql
@pytest.mark.parametrize("term", ["pe", "x"])
def test_on_postgresql_the_index_alone_finds_the_words_that_start_with_a_short_term(db, term):
    # pg_trgm keeps "  p" and " pe" for every word starting with "pe"; a pattern from which it
    # can take no trigram is answered with every row of the index, to be checked one by one.
    make_ticket(name="Pedro Xavier Soto", message="Consulta")
    make_ticket(name="Ana Lopez", message="Consulta")
    make_ticket(name="Luis Vera", message="Consulta")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM tickets_ticket WHERE {SEARCH_TEXT_SQL} ~ %s",
            [word_start_pattern(term)],
        )
        plan = cursor.fetchone()[0]
    heap_scan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    assert heap_scan["Plans"][0]["Index Name"] == "ticket_search_trgm"
    assert heap_scan["Actual Rows"] == 1
    assert heap_scan["Rows Removed by Index Recheck"] == 0


def test_folding_drops_accents_and_case_as_postgresql_does():
    assert fold("Rendición ÑUBLE Pingüino") == "rendicion nuble pinguino"
