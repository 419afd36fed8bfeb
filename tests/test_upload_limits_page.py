def test_the_upload_limits_page_lists_types_and_limits(client, db, settings):
    settings.TICKET_MAX_FILES = 7
    settings.TICKET_MAX_FILE_SIZE = 3 * 1024 * 1024
    html = client.get("/limite-de-carga/").content.decode()
    assert "hasta 7 archivos" in html
    assert "como máximo 3 MB" in html
    assert ".pdf" in html and ".docx" in html and ".csv" in html
    assert ".exe" not in html


def test_a_type_removed_from_settings_is_no_longer_listed(client, db, settings):
    settings.TICKET_ALLOWED_EXTENSIONS = ["pdf", "png"]
    html = client.get("/limite-de-carga/").content.decode()
    assert ".pdf" in html
    assert ".docx" not in html
