"""The agents' free-text search at 100,000 tickets on PostgreSQL: the search alone, then the queue page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mesaayuda_bench_search \\
        .venv/bin/python benchmarks/search.py [--tickets 100000] [--runs 21] [--keep]

PostgreSQL only: the trigram index (migrations 0005 and 0012) exists nowhere else.
The database is dropped and created afresh, and dropped again at the end (--keep leaves
it, --reuse measures a kept one again without building); to protect other people's data,
only a database whose name starts with "mesaayuda_bench" is ever touched.

A child process builds the tickets: names, addresses, subjects and messages put together
from Spanish word lists with the frequencies a help desk sees (common surnames often,
municipal and personal addresses, a few sentence patterns about rendiciones, convenios,
Clave Única…), so that a word's trigrams are as selective as in real text. Then, for
each term (a rare surname, a common word typed without its accent, a fragment of an
address, a fragment of a tracking ID quoted in a message, a word found nowhere, a
two-letter term), it prints:

- the search alone (``tickets.search.search_text``): its first page (50 tickets, newest
  first, as the queue orders them) and the count of everything it matches, median and
  p95 of --runs runs;
- the whole queue page, ``/admin/tickets/ticket/?q=term``, through django.test.Client
  as an agent (middleware, every query, the template), median and p95, its queries
  and its slowest query;

and the plans (EXPLAIN ANALYZE) of the queue's queries over the tickets for one term
(--explain; by default the word whose matches the planner under-estimates).

--sweep also requests the queue page once for every one- and two-letter term (a to z and
ñ, 756 terms) and prints the spread: a short term's cost depends on how well the
planner guesses its matches from a sample, so a handful of terms cannot show the worst.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from common import ALPHABET, postgres_admin, tracking_id

ROOT = Path(__file__).resolve().parent.parent
SAFE_PREFIX = "mesaayuda_bench"
QUEUE = "/admin/tickets/ticket/"


# --- the words the tickets are made of ----------------------------------------------------
def words(text: str, sep: str | None = None) -> list[str]:
    # Lists kept as running text: as list literals they would take a line a word.
    return [w.strip() for w in text.split(sep)]


FIRST_NAMES = words(
    "María José Juan Carlos Ana Luis Francisca Pedro Camila Jorge Valentina Diego Daniela "
    "Felipe Javiera Cristián Constanza Rodrigo Catalina Sebastián Fernanda Matías Paula "
    "Patricio Carolina Andrés Macarena Gonzalo Claudia Ricardo Marcela Héctor Verónica "
    "Mauricio Alejandra Óscar Paola Ramón Inés Sofía Benjamín Martín Ignacio Josefa Tomás "
    "Agustina Vicente Florencia Joaquín Antonia Nicolás Bárbara Raúl Mónica Víctor Gloria "
    "Sergio Eliana Hernán Ximena Fabián Lorena Germán Cecilia Iván Angélica Rubén Soledad"
)
# Roughly in the order of their frequency in Chile: the first ones are drawn far more often.
SURNAMES = words(
    "González Muñoz Rojas Díaz Pérez Soto Contreras Silva Martínez Sepúlveda Morales "
    "Rodríguez López Fuentes Hernández Torres Araya Flores Espinoza Valenzuela Castillo "
    "Tapia Reyes Gutiérrez Castro Pizarro Álvarez Vásquez Sánchez Fernández Ramírez "
    "Carrasco Gómez Cortés Herrera Núñez Jara Vergara Rivera Figueroa Riquelme García "
    "Miranda Bravo Vera Molina Vega Campos Sandoval Orellana Zúñiga Olivares Alarcón "
    "Gallardo Ortiz Garrido Salazar Guzmán Henríquez Saavedra Navarro Aguilera Parra "
    "Romero Aravena Vargas Vidal Cáceres Yáñez Leiva Escobar Ruiz Valdés Salinas Lagos "
    "Quezada Peña Toro Mella Paredes Osorio Venegas Ibáñez Poblete Cárdenas Acuña Lara "
    "Arancibia Gaete Maldonado Bustos Medina Cisternas Pinto Moreno Ríos Palma Carvajal "
    "Sáez Farías Donoso Marín Hidalgo Lillo Cuevas Opazo Figueroa Cerda Avendaño Rivas"
)
# The rare surname the benchmark looks for: a handful of tickets carry it.
RARE_SURNAME = "Quintremán"
COMUNAS = words(
    "Arica, Iquique, Calama, Antofagasta, Copiapó, Vallenar, Ovalle, Illapel, Quillota, "
    "Valparaíso, Rancagua, Rengo, Curicó, Talca, Linares, Chillán, Concepción, Coronel, Lota, "
    "Cañete, Temuco, Angol, Villarrica, Pucón, Valdivia, Osorno, Puerto Montt, Castro, Ancud, "
    "Coyhaique, Aysén, Punta Arenas, Natales, Maipú, Puente Alto, La Florida, Peñalolén, "
    "Ñuñoa, Recoleta, Lampa, Colina, Talagante, Melipilla, Paine, Buin, Peñaflor",
    ",",
)
FREE_MAIL = ["gmail.com", "gmail.com", "gmail.com", "hotmail.com", "outlook.com", "yahoo.es"]
ORGS = [
    "fundacion{c}",
    "ongsurcos",
    "jjvv{c}",
    "clubdeportivo{c}",
    "cesfam{c}",
    "corporacion{c}",
    "agrupacioncultural{c}",
    "desarrollosocial.gob",
]
DOCUMENTS = [
    "la rendición de cuentas",
    "el informe de rendición",
    "la boleta de garantía",
    "el certificado de vigencia",
    "el convenio firmado",
    "la resolución exenta",
    "el acta de entrega",
    "las facturas del proyecto",
    "el informe técnico final",
    "la declaración jurada",
    "el comprobante de transferencia",
    "la carta de compromiso",
]
MODULES = [
    "Rendiciones",
    "Postulación",
    "Convenios",
    "Documentos",
    "Mis proyectos",
    "Transferencias",
    "Informes",
    "Perfil de la institución",
]
ERRORS = [
    "«Error inesperado»",
    "un error 500",
    "«Sesión expirada»",
    "una pantalla en blanco",
    "«El archivo supera el tamaño permitido»",
    "«RUT no válido»",
    "«No tiene permisos para esta acción»",
    "un mensaje en inglés que no entiendo",
]
SUBJECTS = [
    "No puedo ingresar {doc}",
    "Problema al subir {doc}",
    "Consulta sobre {doc}",
    "Error en el módulo {module}",
    "No puedo entrar con Clave Única",
    "Olvidé mi contraseña",
    "Solicito prórroga para {doc}",
    "Cambio de representante legal",
    "Proyecto {project} observado",
    "Duda sobre el plazo de {doc}",
    "La plataforma no carga",
    "Transferencia pendiente del proyecto {project}",
    "Rectificación de datos de la institución",
    "Reclamo por demora en la respuesta",
]
OPENINGS = [
    "Buenos días.",
    "Buenas tardes,",
    "Estimados:",
    "Hola, junto con saludar.",
    "Señores Mesa de Ayuda:",
    "Estimada mesa de ayuda, junto con saludarles cordialmente.",
    "",
]
SENTENCES = [
    "No puedo ingresar {doc} del proyecto {project}.",
    "Al presionar «Enviar» en el módulo {module} aparece {error}.",
    "Intenté adjuntar {doc} pero la plataforma no lo acepta.",
    "Somos una organización de {comuna} y es la primera vez que postulamos.",
    "El plazo para {doc} vence el {day} de {month} y necesito ayuda urgente.",
    "Ya envié {doc} el {day} de {month}, pero sigue apareciendo como pendiente.",
    "Necesito modificar el monto de ${amount} que quedó mal ingresado.",
    "El sistema me pide la configuración del perfil antes de continuar.",
    "Cambié de computador y ahora no veo el botón para {verb} {doc}.",
    "Nuestra tesorera cambió y no sabemos cómo actualizar los datos de la cuenta.",
    "La Municipalidad de {comuna} nos indicó que escribiéramos a esta mesa.",
    "Desde ayer no puedo entrar con mi Clave Única, dice {error}.",
    "Adjunto pantallazo del error.",
    "Les agradecería indicarme los pasos a seguir.",
    "Es continuación del ticket {other_id}, que quedó sin respuesta.",
    "El proyecto {project} figura como observado y no sabemos por qué.",
    "Quisiera saber si la transferencia de ${amount} ya fue realizada.",
    "Trabajo desde {comuna} y la conexión es lenta, quizás sea eso.",
    "Probé con Chrome y con Firefox y pasa lo mismo.",
    "En el módulo {module} no aparece {doc} que subimos en {month}.",
]
CLOSINGS = [
    "Saludos cordiales.",
    "Quedo atento.",
    "Muchas gracias.",
    "Atte.",
    "Gracias de antemano.",
    "Saludos, {first}.",
    "",
]
MONTHS = words(
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
VERBS = ["subir", "corregir", "descargar", "firmar", "enviar"]

# The terms searched for, and what each one tests; the tracking-ID fragment is taken from the data.
TERMS = [
    ("rare surname", "quintreman"),
    ("common word, no accent", "rendicion"),
    ("word under-estimated", "garantia"),
    ("comuna, two words", "puerto montt"),
    ("address fragment", "munitalagante"),
    ("tracking-ID fragment", None),
    ("no match", "desconfiguracion"),
    ("two letters, common", "pe"),
    ("two letters, rare", "qq"),
    ("two letters, initials", "jp"),
    ("one letter", "x"),
]


def ascii_fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def configure_environment():
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mesaayuda.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("BENCH_SECRET_KEY", "benchmark-only-" + "x" * 60),
        PUBLIC_SITE_URL="https://mesadeayuda.example.gob.cl",
        HELPDESK_NOTIFY_EMAIL="soporte@mesadeayuda.example.gob.cl",
        EMAIL_URL="dummymail://",
        EMAIL_SEND_ON_COMMIT="0",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",
        # The in-process client speaks plain HTTP; the redirect to HTTPS is not what we measure.
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        # The agent's session has no second factor: its one query is not the search's cost.
        STAFF_REQUIRE_2FA="0",
    )
    sys.path.insert(0, str(ROOT))


def postgres_name():
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if not url.scheme.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database: the trigram index is PostgreSQL's")
    name = url.path.lstrip("/")
    if not name.startswith(SAFE_PREFIX):
        sys.exit(f"refusing to drop and create {name!r}: use a database named {SAFE_PREFIX}…")
    return name


# --- building the data (child process) ------------------------------------------------------
def build(total, seed=23):
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import Category, Region, Sequence, Status, Ticket

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    agent = User.objects.create_user(
        "agente", password="bench-2026", is_staff=True, first_name="Ana", last_name="Agente"
    )
    agent.groups.add(Group.objects.get(name="Agentes"))

    rng = random.Random(seed)
    regions = list(Region.objects.all())
    categories = list(Category.objects.all())
    now = timezone.now()
    # Zipf-like: the k-th surname or comuna is drawn in proportion to 1/k.
    surname_weights = [1 / (k + 1) for k in range(len(SURNAMES))]
    comuna_weights = [1 / (k + 1) ** 0.5 for k in range(len(COMUNAS))]
    rare = set(rng.sample(range(total), 4))
    statuses, status_weights = zip(
        (Status.RESOLVED, 0.62),
        (Status.CLOSED, 0.12),
        (Status.NEW, 0.08),
        (Status.WAITING_STAFF, 0.06),
        (Status.IN_PROGRESS, 0.05),
        (Status.ANSWERED, 0.04),
        (Status.ON_HOLD, 0.03),
        strict=True,
    )

    def random_tracking_id():
        raw = "".join(rng.choice(ALPHABET) for _ in range(10))
        return f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"

    def fill(text, first, comuna):
        return text.format(
            doc=rng.choice(DOCUMENTS),
            module=rng.choice(MODULES),
            error=rng.choice(ERRORS),
            project=rng.randint(10000, 39999),
            comuna=comuna,
            day=rng.randint(1, 28),
            month=rng.choice(MONTHS),
            amount=f"{rng.randint(1, 900) * 10_000:,}".replace(",", "."),
            verb=rng.choice(VERBS),
            other_id=random_tracking_id(),
            first=first,
        )

    def ticket(i):
        first = rng.choice(FIRST_NAMES)
        if rng.random() < 0.3:
            first = f"{first} {rng.choice(FIRST_NAMES)}"
        surnames = rng.choices(SURNAMES, surname_weights, k=2)
        if i in rare:
            surnames[rng.randrange(2)] = RARE_SURNAME
        name = f"{first} {' '.join(surnames)}"
        comuna = rng.choices(COMUNAS, comuna_weights)[0]
        local = ascii_fold(first.split()[0])[: rng.choice([1, 99])] + ascii_fold(surnames[0])
        if rng.random() < 0.4:
            local += str(rng.randint(1, 99))
        kind = rng.random()
        if kind < 0.45:
            domain = rng.choice(FREE_MAIL)
        elif kind < 0.8:
            domain = f"muni{ascii_fold(comuna)}.cl"
        else:
            domain = rng.choice(ORGS).format(c=ascii_fold(comuna)) + ".cl"
        sentences = rng.sample(SENTENCES, rng.randint(2, 6))
        message = " ".join(
            part
            for part in (
                rng.choice(OPENINGS),
                *(fill(s, first, comuna) for s in sentences),
                fill(rng.choice(CLOSINGS), first.split()[0], comuna),
            )
            if part
        )
        created = now - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
        t = Ticket(
            number=i + 1,
            tracking_id=tracking_id(i, offset=3_000_000),
            name=name,
            email=f"{local}@{domain}",
            category=rng.choice(categories),
            region=rng.choice(regions),
            project_number=rng.randint(10000, 39999),
            subject=fill(rng.choice(SUBJECTS), first, comuna)[:120],
            message=message,
            ip_address=f"190.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            created_at=created,
            updated_at=created,
            status=rng.choices(statuses, status_weights)[0],
        )
        if t.status in (Status.RESOLVED, Status.CLOSED):
            t.closed_at = created + timedelta(days=rng.randint(1, 12))
        elif t.status in (Status.NEW, Status.WAITING_STAFF, Status.IN_PROGRESS):
            t.staff_due_at = now + timedelta(hours=rng.randint(-48, 48))
        return t

    chunk = 5000
    for start in range(0, total, chunk):
        with transaction.atomic():
            Ticket.objects.bulk_create([ticket(i) for i in range(start, min(total, start + chunk))])
    Sequence.objects.update_or_create(name="ticket", defaults={"value": total})
    loaded = time.perf_counter()
    # As autovacuum leaves a table in production: statistics, visibility map, GIN pending list.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")
        cursor.execute(
            "SELECT pg_size_pretty(pg_relation_size('tickets_ticket')), "
            "pg_size_pretty(pg_relation_size('ticket_search_trgm')), "
            "avg(length(message))::int FROM tickets_ticket"
        )
        table, index, avg_message = cursor.fetchone()
    print(
        f"built {total:,} tickets in {loaded - migrated:.1f} s (migrate {migrated - started:.1f} s, "
        f"VACUUM ANALYZE {time.perf_counter() - loaded:.1f} s); table {table}, trigram index "
        f"{index}, messages {avg_message} characters on average"
    )


# --- measuring (parent process) ----------------------------------------------------------------
def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn, runs):
    """Median and p95 in ms of ``runs`` calls after two warm-up calls, and the last result."""
    result = None
    for _ in range(2):
        result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 95), result


def tracking_fragment():
    """Two thirds of a tracking ID quoted in some message (no whole ID: that is an exact match)."""
    import re

    from tickets.models import Ticket

    message = (
        Ticket.objects.filter(message__contains="continuación del ticket")
        .order_by("number")
        .values_list("message", flat=True)
        .first()
    )
    quoted = re.search(r"ticket (\w{3}-\w{3}-\w{4})", message).group(1)
    return quoted[4:11]  # "XQE-RW2": the middle, as someone would paste part of it


def measure_search(terms, runs):
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Ticket
    from tickets.search import search_text

    client = Client()
    client.force_login(
        User.objects.get(username="agente"), backend="tickets.auth_backend.OneQueryModelBackend"
    )

    def queue_page(params):
        """The page's median and p95, and of one more request: its queries, their total
        time and the slowest one (ms)."""

        def get():
            r = client.get(QUEUE, params)
            assert r.status_code == 200, r.status_code

        med, p95, _r = timed(get, runs)
        with CaptureQueriesContext(connection) as ctx:
            get()
        times = [float(q["time"]) * 1000 for q in ctx.captured_queries]
        return f"{med:>8.1f} / {p95:>7.1f}   {len(times):>3} {sum(times):>6.0f} {max(times):>7.0f}"

    print(
        f"{'term':<38} {'matches':>8}   {'first page':>18}   {'count':>18}   "
        f"{'queue page ?q=':>18}   {'queries, SQL, slowest':>20}"
    )
    print(
        f"{'':<38} {'':>8}   {'median / p95 ms':>18}   {'median / p95 ms':>18}   "
        f"{'median / p95 ms':>18}   {'':>3} {'ms':>6} {'ms':>7}"
    )
    # What the page costs without a search, showing 50 tickets as most searches do.
    print(f"{'(no search: every ticket)':<38} {'':>8}   {'':>18}   {'':>18}   ", end="")
    print(queue_page({"estado": "todos"}))
    for label, term in terms:
        found = search_text(Ticket.objects.all(), term)
        page_med, page_p95, _rows = timed(
            lambda found=found: list(found.order_by("-number").values_list("pk", flat=True)[:50]),
            runs,
        )
        count_med, count_p95, matches = timed(found.count, runs)
        print(
            f"{label + ' «' + term + '»':<38} {matches:>8,}   {page_med:>8.1f} / {page_p95:>7.1f}   "
            f"{count_med:>8.1f} / {count_p95:>7.1f}   {queue_page({'q': term})}"
        )


def sweep():
    """The queue page once for every one- and two-letter term, after one warm-up request each."""
    import string

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(
        User.objects.get(username="agente"), backend="tickets.auth_backend.OneQueryModelBackend"
    )
    letters = string.ascii_lowercase + "ñ"
    results = []
    for term in [*letters, *(a + b for a in letters for b in letters)]:
        client.get(QUEUE, {"q": term})
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            r = client.get(QUEUE, {"q": term})
            ms = (time.perf_counter() - started) * 1000
        assert r.status_code == 200, r.status_code
        sql = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        results.append((ms, sql, term))
    pages = [ms for ms, _sql, _term in results]
    sqls = [sql for _ms, sql, _term in results]
    print(
        f"\nqueue page ?q= for {len(results)} one- and two-letter terms, one request each (ms):"
        f"\n    page median {statistics.median(pages):.1f}, p95 {percentile(pages, 95):.1f}, "
        f"max {max(pages):.1f}; over 100 ms: {sum(ms > 100 for ms in pages)}"
        f"\n    its SQL median {statistics.median(sqls):.1f}, p95 {percentile(sqls, 95):.1f}, "
        f"max {max(sqls):.1f}; over 50 ms: {sum(sql > 50 for sql in sqls)}"
    )
    slowest = sorted(results, key=lambda r: r[1], reverse=True)[:5]
    print("    slowest SQL: " + ", ".join(f"«{t}» {sql:.0f} ms" for _ms, sql, t in slowest))


def explain(term):
    """EXPLAIN ANALYZE of the queue page's queries over the tickets for ``term``, as it sent them."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.search import SEARCH_TEXT_SQL

    client = Client()
    client.force_login(
        User.objects.get(username="agente"), backend="tickets.auth_backend.OneQueryModelBackend"
    )
    with CaptureQueriesContext(connection) as ctx:
        client.get(QUEUE, {"q": term})
    # The page's tickets and, when the planner expected few, their exact count (parameters
    # inlined); for a short term, the look-up of its first matches (tickets/search.py).
    searches = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("SELECT") and SEARCH_TEXT_SQL in q["sql"]
    ]
    for sql in searches:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [row[0] for row in cursor.fetchall()]
        if sql.startswith("SELECT COUNT"):
            what = "count"
        elif "ORDER BY" in sql:
            what = "first page"
        else:
            what = "index look-up (a short term)"
        print(f"\nEXPLAIN ANALYZE of the queue's {what} for «{term}»:")
        for line in plan:
            print(f"    {line}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--explain", default="garantia", help="the term whose plans are printed")
    parser.add_argument("--term", action="append", default=[], help="one more term to measure")
    parser.add_argument("--sweep", action="store_true", help="every one- and two-letter term")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)  # the child's job
    args = parser.parse_args()

    configure_environment()
    pg = postgres_name()
    if args.build:
        build(args.tickets)
        return

    # Production's static storage needs its manifest, as docker/build-steps.sh makes it.
    static_root = tempfile.mkdtemp(prefix="mesaayuda-bench-static-", dir="/tmp")
    os.environ["STATIC_ROOT"] = static_root
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        check=True,
    )
    if not args.reuse:
        postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        postgres_admin(os.environ["DATABASE_URL"], f'CREATE DATABASE "{pg}"')
    try:
        if not args.reuse:
            subprocess.run(
                [sys.executable, __file__, "--build", "--tickets", str(args.tickets)], check=True
            )
        import django

        django.setup()
        from django.db import connection

        load = os.getloadavg()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(
            f"database: PostgreSQL {version} {connection.settings_dict['NAME']}; "
            f"{args.runs} runs per figure after 2 warm-up runs; "
            f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
        )
        terms = [(label, term or tracking_fragment()) for label, term in TERMS]
        terms += [("extra", term) for term in args.term]
        measure_search(terms, args.runs)
        if args.sweep:
            sweep()
        explain(args.explain)
        connection.close()
    finally:
        if not (args.keep or args.reuse):
            from django.db import connections

            connections.close_all()
            postgres_admin(os.environ["DATABASE_URL"], f'DROP DATABASE IF EXISTS "{pg}"')
        shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    main()
