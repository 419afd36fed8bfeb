"""Turning what HESK stored back into what people wrote (tickets/hesk_text.py)."""

import pytest

from tests.hesk_fixture import body, escape
from tickets import hesk_text


def test_a_body_comes_back_as_typed_with_its_lines_links_and_symbols():
    typed = 'Línea <b>1</b> & "dos" `tres`\n\nVer https://a.cl/' + "x" * 80 + "?a=1&b=2\nFin"
    assert hesk_text.plain_text(body(typed)) == typed


def test_tags_hesk_did_not_write_stay_as_text():
    assert hesk_text.plain_text(escape("<script>alert(1)</script>")) == "<script>alert(1)</script>"
    assert hesk_text.plain_text("<p>Hola</p><p>Chao</p>") == "Hola\nChao"


def test_an_e_mail_link_keeps_the_address():
    assert hesk_text.plain_text('<a href="mailto:a@b.cl">a@b.cl</a>') == "a@b.cl"


def test_custom_field_names_are_read_from_json_and_from_plain_text():
    assert hesk_text.field_names('{"Español":"Región","English":"Region"}') == ["Región", "Region"]
    assert hesk_text.field_names("N&uacute;mero") == ["Número"]
    assert hesk_text.field_names("") == []


@pytest.mark.parametrize(
    "text, code",
    [
        ("V Región de Valparaíso", "VS"),
        ("Región del Bío-Bío", "BI"),
        ("XIV Región de Los Ríos", "LR"),
        ("X Región de Los Lagos", "LL"),
        ("Región Metropolitana", "RM"),
        ("Libertador Gral. Bernardo O'Higgins", "LI"),
        ("ÑUBLE", "NB"),
        ("Aisén", "AI"),
        ("Nivel Central", "NC"),
        ("Marte", None),
        ("", None),
    ],
)
def test_regions_are_matched_tolerantly(text, code):
    assert hesk_text.region_code(text) == code


def test_several_addresses_give_the_first_and_the_rest():
    assert hesk_text.first_email("a@b.cl, c@d.cl;e@f.cl") == ("a@b.cl", ["c@d.cl", "e@f.cl"])
    assert hesk_text.first_email("a@b.cl") == ("a@b.cl", [])


def test_unknown_ips_and_languages_fall_back():
    assert hesk_text.ip_or_none("Unknown") is None
    assert hesk_text.ip_or_none("10.0.0.1") == "10.0.0.1"
    assert hesk_text.language_code("English") == "en"
    assert hesk_text.language_code("Español") == "es"
    assert hesk_text.language_code(None) == "es"
