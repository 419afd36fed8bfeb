def test_the_portal_speaks_spanish_by_default(client, db):
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html
    assert "Enviar un ticket" in html


def test_the_language_switch_turns_the_portal_to_english_and_back(client, db):
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Submit a ticket" in html
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "Enviar un ticket" in client.get("/").content.decode()


def test_form_errors_are_in_the_requesters_language(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.post("/ticket/ver/", {"tracking_id": "123"}).content.decode()
    assert "A tracking ID has 10 letters and digits" in html


def test_deadlines_are_written_in_the_pages_language(client, ticket):
    spanish = client.get(f"/ticket/{ticket.tracking_id}/").content.decode()
    assert " de " in spanish.split("Respuesta esperada")[1][:200]
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get(f"/ticket/{ticket.tracking_id}/").content.decode()
    due = english.split("Reply expected")[1][:200]
    assert " de " not in due
