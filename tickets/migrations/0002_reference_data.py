from django.db import migrations

CATEGORIES = [
    "Claves SIGEC - Cambio de clave",
    "Perfiles de usuario y permisos",
    "Error de sistema",
    "Convenios",
    "Rendiciones de cuentas",
    "Proyectos y convocatorias",
    "Reportes",
    "Consulta general",
]

# North to south, ISO 3166-2:CL codes as the `holidays` package uses them.
REGIONS = [
    ("NC", "Nivel Central", "RM"),
    ("AP", "Arica y Parinacota", "AP"),
    ("TA", "Tarapacá", "TA"),
    ("AN", "Antofagasta", "AN"),
    ("AT", "Atacama", "AT"),
    ("CO", "Coquimbo", "CO"),
    ("VS", "Valparaíso", "VS"),
    ("RM", "Metropolitana de Santiago", "RM"),
    ("LI", "Libertador General Bernardo O'Higgins", "LI"),
    ("ML", "Maule", "ML"),
    ("NB", "Ñuble", "NB"),
    ("BI", "Biobío", "BI"),
    ("AR", "La Araucanía", "AR"),
    ("LR", "Los Ríos", "LR"),
    ("LL", "Los Lagos", "LL"),
    ("AI", "Aysén del General Carlos Ibáñez del Campo", "AI"),
    ("MA", "Magallanes y de la Antártica Chilena", "MA"),
]


def seed(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    Region = apps.get_model("tickets", "Region")
    Sequence = apps.get_model("tickets", "Sequence")
    for position, name in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(name=name, defaults={"position": position * 10})
    for position, (code, name, subdiv) in enumerate(REGIONS, start=1):
        Region.objects.get_or_create(
            code=code, defaults={"name": name, "holiday_subdiv": subdiv, "position": position * 10}
        )
    Sequence.objects.get_or_create(name="ticket", defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
