"""A subject derived from the message skips the greetings people open with."""

import pytest

from tickets.subjects import subject_from

CATEGORY = "Error de sistema"


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "Estimados:\nNo puedo ingresar la rendición del proyecto. Me aparece un error 500.",
            "No puedo ingresar la rendición del proyecto",
        ),
        (
            "Hola, buenas tardes. Junto con saludar, les escribo porque el sistema no carga.",
            "Les escribo porque el sistema no carga",
        ),
        ("Buenas tardes no puedo entrar al SIGEC", "No puedo entrar al SIGEC"),
        (
            "Estimados Mesa de Ayuda:\n\n¿Cómo cambio el coordinador del proyecto?",
            "¿Cómo cambio el coordinador del proyecto?",
        ),
        (
            "Junto con saludar, solicito la reapertura del proyecto 29928.",
            "Solicito la reapertura del proyecto 29928",
        ),
        (
            "De mi consideración:\nPor medio de la presente solicito acceso al módulo de rendiciones.",
            "Por medio de la presente solicito acceso al módulo de rendiciones",
        ),
        ("Buenos días,\nEl botón Guardar no responde", "El botón Guardar no responde"),
        ("Estimada/o:\nNecesito cambiar mi correo", "Necesito cambiar mi correo"),
    ],
)
def test_the_subject_skips_spanish_greetings(message, expected):
    assert subject_from(message, category=CATEGORY) == expected


def test_a_message_that_starts_with_its_request_keeps_it():
    assert subject_from("Error al adjuntar la boleta.\nSaludos", category=CATEGORY) == (
        "Error al adjuntar la boleta"
    )


@pytest.mark.parametrize("message", ["Hola", "Saludos cordiales", "Estimados:\n\nAyuda"])
def test_a_message_with_nothing_but_a_greeting_gets_the_category_in_front(message):
    assert subject_from(message, category=CATEGORY).startswith("Error de sistema: ")


def test_a_long_sentence_is_cut_at_80_characters():
    subject = subject_from("Hola: " + "palabra " * 30, category=CATEGORY)
    assert len(subject) == 80 and subject.endswith("…")
