from io import StringIO

from django.core.management import call_command


def test_no_model_change_lacks_a_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    assert "No changes detected" in out.getvalue()


def test_regions_are_seeded_with_their_holiday_calendars(db):
    from tickets.models import Region

    assert Region.objects.count() == 17
    assert Region.objects.get(code="NC").holiday_subdiv == "RM"
    assert Region.objects.get(code="AP").holiday_subdiv == "AP"


def test_categories_the_manual_names_are_seeded(db):
    from tickets.models import Category

    names = set(Category.objects.values_list("name", flat=True))
    assert {"Claves SIGEC - Cambio de clave", "Error de sistema"} <= names
