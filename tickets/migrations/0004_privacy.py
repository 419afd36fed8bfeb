"""Ley 21.719: the privacy notice, the data-request log, the access log.

Seeds the notice with a default Spanish text and gives the Supervisores group its
permissions on the three models. Texts and permission lists are frozen here, so
this migration means the same thing whenever it runs.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


NOTICE_TITLE = "Aviso de privacidad"
# {…} are replaced when the page is shown (PrivacyNotice.PLACEHOLDERS), from the settings.
NOTICE_BODY = """Este aviso explica cómo la Mesa de Ayuda SIGEC trata los datos personales que usted entrega al enviar un ticket o al responderlo, conforme a la Ley N° 21.719 sobre protección de datos personales.

Responsable del tratamiento
Ministerio de Desarrollo Social y Familia, División de Promoción y Protección Social, Unidad de Gestión de Proyectos Informáticos y Procesos.

Para qué usamos sus datos
Solo para atender sus solicitudes de soporte del Sistema de Gestión de Convenios SIGEC: registrar su requerimiento, responderle, avisarle por correo electrónico de lo que ocurra con su ticket y llevar estadísticas de atención que no identifican a nadie.

Qué datos registramos
Su nombre, su dirección de correo electrónico, su región, el número de proyecto, su mensaje y sus respuestas, los archivos que adjunte, y la dirección IP y la fecha y hora de envío de cada ticket y respuesta. También registramos cada vez que se abre un ticket o se descarga uno de sus archivos (fecha, hora y dirección IP, y qué funcionario lo hizo), para saber quién accedió a sus datos.

Base legal
El tratamiento se realiza en ejercicio de las funciones públicas del Ministerio, dentro de su competencia, conforme a la Ley N° 21.719.

Cuánto tiempo los conservamos
Mientras su ticket esté abierto y hasta {meses_conservacion} meses después de que se resuelva o se cierre. Entonces se anonimiza: se borran su nombre, su correo, su dirección IP, los mensajes y los archivos adjuntos, y solo quedan datos estadísticos (número de ticket, categoría, región, fechas y estado). Los correos de aviso enviados se borran después de {dias_correos} días y el registro de accesos después de {dias_registro_accesos} días.

Quién puede verlos
Solo el personal de la Mesa de Ayuda del Ministerio (agentes y supervisores). No los entregamos a terceros. Quien conozca el ID de seguimiento de un ticket puede ver su contenido: no lo comparta.

Sus derechos
Usted tiene derecho de acceso, rectificación, supresión, oposición, portabilidad y bloqueo de sus datos personales. Para ejercerlos escriba a {correo_privacidad} indicando la dirección de correo con la que envió sus tickets; le responderemos dentro de los plazos que fija la ley.

Si considera que no se han respetado sus derechos, puede reclamar ante la Agencia de Protección de Datos Personales."""

SUPERVISOR_PERMISSIONS = [
    ("tickets", "view_privacynotice"),
    ("tickets", "change_privacynotice"),
    ("tickets", "add_privacynotice"),
    # A data-subject request is carried out by adding its DataRequest row.
    ("tickets", "view_datarequest"),
    ("tickets", "add_datarequest"),
    ("tickets", "view_accesslog"),
]


def seed(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # As in 0003_groups: on a fresh database post_migrate has not created them yet.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    PrivacyNotice = apps.get_model("tickets", "PrivacyNotice")
    if not PrivacyNotice.objects.exists():
        PrivacyNotice.objects.create(title=NOTICE_TITLE, body=NOTICE_BODY)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Supervisores")
    for app_label, codename in SUPERVISOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def unseed(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    codenames = [codename for _app, codename in SUPERVISOR_PERMISSIONS]
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisores").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="tickets", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="PrivacyNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="título")),
                (
                    "body",
                    models.TextField(
                        help_text="Texto simple: una línea en blanco separa los párrafos. Se reemplazan al mostrarlo: {correo_privacidad}, {meses_conservacion}, {dias_correos} y {dias_registro_accesos}.",
                        verbose_name="texto",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="actualizado")),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actualizado por",
                    ),
                ),
            ],
            options={
                "verbose_name": "aviso de privacidad",
                "verbose_name_plural": "aviso de privacidad",
            },
        ),
        migrations.CreateModel(
            name="AccessLog",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="fecha"),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("admin_view", "Vista en admin"),
                            ("admin_download", "Descarga en admin"),
                            ("public_view", "Vista pública"),
                            ("public_download", "Descarga pública"),
                        ],
                        max_length=16,
                        verbose_name="tipo",
                    ),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="dirección IP"
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accesses",
                        to="tickets.ticket",
                        verbose_name="ticket",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="usuario",
                    ),
                ),
            ],
            options={
                "verbose_name": "acceso a un ticket",
                "verbose_name_plural": "registro de accesos",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(fields=["ticket", "created_at"], name="access_ticket_created"),
                    models.Index(fields=["created_at"], name="access_created"),
                ],
            },
        ),
        migrations.CreateModel(
            name="DataRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="fecha"),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("export", "Exportar sus datos (acceso y portabilidad)"),
                            ("rectify", "Rectificar nombre o e-mail"),
                            ("erase", "Suprimir (anonimizar sus tickets)"),
                        ],
                        max_length=10,
                        verbose_name="acción",
                    ),
                ),
                (
                    "email",
                    models.EmailField(
                        blank=True,
                        help_text="Vacío cuando los datos de la dirección fueron suprimidos.",
                        max_length=254,
                        verbose_name="e-mail",
                    ),
                ),
                (
                    "email_sha256",
                    models.CharField(max_length=64, verbose_name="SHA-256 del e-mail"),
                ),
                ("email_domain", models.CharField(max_length=254, verbose_name="dominio")),
                (
                    "new_name",
                    models.CharField(blank=True, max_length=100, verbose_name="nombre nuevo"),
                ),
                (
                    "new_email",
                    models.EmailField(blank=True, max_length=254, verbose_name="e-mail nuevo"),
                ),
                (
                    "reference",
                    models.CharField(
                        blank=True,
                        help_text="N° de oficio, carta o correo con que llegó la solicitud. No escriba aquí nombres ni direcciones.",
                        max_length=200,
                        verbose_name="referencia",
                    ),
                ),
                ("ticket_count", models.PositiveIntegerField(default=0, verbose_name="tickets")),
                ("details", models.CharField(blank=True, max_length=300, verbose_name="detalle")),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="realizada por",
                    ),
                ),
            ],
            options={
                "verbose_name": "solicitud de datos personales",
                "verbose_name_plural": "solicitudes de datos personales",
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["email_sha256"], name="datarequest_email_sha256")],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]
