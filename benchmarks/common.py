"""What the benchmark scripts share: PostgreSQL administration, made-up tracking IDs and
outbox rows.

Imported as ``common`` (each script runs from this folder: ``python benchmarks/x.py``).
Free of Django at import, so a parent process can use it before any settings exist.
"""

from urllib.parse import urlsplit

# tickets.tracking's alphabet, repeated so that this module needs no Django.
ALPHABET = "AEUYBDGHJLMNPQRSTVWXZ123456789"


def postgres_admin(url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server of ``url``, outside a transaction."""
    import psycopg  # only the PostgreSQL runs need it

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


def tracking_id(i: int, *, offset: int) -> str:
    """The i-th of a series of unique, well-formed tracking IDs (offset keeps series apart)."""
    digits, n = [], i + offset
    for _ in range(10):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    raw = "".join(reversed(digits))
    return f"{raw[:3]}-{raw[3:6]}-{raw[6:]}"


# Bodies the size of a real confirmation (about 0.6 kB of text, 1.6 kB of HTML).
CONFIRMATION_TEXT = "Hemos recibido su ticket en la Mesa de Ayuda SIGEC.\n" * 12
CONFIRMATION_HTML = "<p>Hemos recibido su ticket en la Mesa de Ayuda SIGEC.</p>\n" * 28


def benchmark_messages(numbers, **fields) -> list:
    """Queued outbox rows of kind "benchmark", one per number, saved in one INSERT.

    Needs Django set up: the model is imported here, not at the top (see above).
    """
    from tickets.models import OutgoingEmail

    return OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            kind="benchmark",
            to=f"persona{i}@desarrollosocial.gob.cl",
            subject=f"[#BENCH{i:05d}] Ticket recibido",
            body_text=CONFIRMATION_TEXT,
            body_html=CONFIRMATION_HTML,
            **fields,
        )
        for i in numbers
    )
