"""The session engine (``SESSION_ENGINE = "tickets.session_store"``): Django's database
sessions, except that a failed save cannot turn committed work into an error page.

Django saves a changed session in ``SessionMiddleware.process_response``, after
the view has committed its work: when the database connection drops at that
moment (a failover, a restart), the requester gets "Inténtelo de nuevo" for a
ticket that exists, tries again from a fresh form, and makes a second one.

A view whose response reports something already committed calls
``keep_response_if_session_fails(request)``; if the session then cannot be
saved because of the database, the failure is logged and the response goes out
as the view made it. The view must not depend on the session for what the
person has to see (the submission confirmation carries a signed cookie of its
own). Every other save keeps Django's behaviour: the error reaches the handler
and the person gets the 500 page.

An engine rather than a replacement of ``SessionMiddleware``: Django's deploy
checks for the session cookie look for its middleware by name.

A save commits without waiting for the disk (``tickets.bookkeeping``): it was the
second durable commit of every submission (benchmarks/RESULTS.md). A crash of the
database server can lose a session saved in its last fraction of a second, which only
ever costs a signing-in again or a tracking ID to type again; deleting a session (a
log-out, a password change ending the others) still waits for the disk.
"""

import logging

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.utils.crypto import get_random_string

from tickets.bookkeeping import bookkeeping

log = logging.getLogger(__name__)


def keep_response_if_session_fails(request: HttpRequest) -> None:
    """This request's work is committed: a session the database cannot save must not hide it."""
    # An attribute of this request's store; loads nothing from the database.
    request.session.keep_response_if_save_fails = True


class SessionStore(DatabaseSessionStore):
    keep_response_if_save_fails = False

    def _get_new_session_key(self) -> str:
        # No read first to see whether the key is taken (Django's way): the INSERT's
        # unique key says so, and create() then draws another.
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        """Django's save as one statement: no savepoint, no read of the key first."""
        if self.session_key is None:
            return self.create()
        obj = self.create_model_instance(self._get_session(no_load=must_create))
        try:
            with bookkeeping():
                changed = self._write(obj, must_create)
        except DatabaseError:
            if not self.keep_response_if_save_fails:
                # Django's errors: a new session's stays DatabaseError; a stored one's
                # becomes UpdateError, which the middleware answers with a 400.
                if must_create:
                    raise
                raise UpdateError from None
            self._not_saved(exc_info=True)
            return
        if changed:
            return
        if must_create:
            raise CreateError  # the key is taken: create() draws another
        # Gone since it was read (ended elsewhere): Django's UpdateError.
        if not self.keep_response_if_save_fails:
            raise UpdateError
        self._not_saved(exc_info=False)

    def _not_saved(self, *, exc_info: bool) -> None:
        # A new session that was never stored keeps no key: its cookie then holds no
        # valid key, and the next request starts a fresh session.
        log.warning(
            "session not saved (database error) after committed work; response sent anyway",
            exc_info=exc_info,
        )

    def _write(self, obj, must_create: bool) -> int:
        """INSERT (nothing if the key exists) or UPDATE the row; the rows changed."""
        meta = self.model._meta
        table = connection.ops.quote_name(meta.db_table)
        key, data, expires = (
            connection.ops.quote_name(meta.get_field(f).column)
            for f in ("session_key", "session_data", "expire_date")
        )
        expire_date = connection.ops.adapt_datetimefield_value(obj.expire_date)
        with connection.cursor() as cursor:
            if must_create:
                cursor.execute(
                    f"INSERT INTO {table} ({key}, {data}, {expires}) VALUES (%s, %s, %s) "  # nosec B608
                    f"ON CONFLICT ({key}) DO NOTHING",
                    [obj.session_key, obj.session_data, expire_date],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET {data} = %s, {expires} = %s WHERE {key} = %s",  # nosec B608
                    [obj.session_data, expire_date, obj.session_key],
                )
            return cursor.rowcount
