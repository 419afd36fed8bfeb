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

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError
from django.http import HttpRequest

from tickets.bookkeeping import bookkeeping

log = logging.getLogger(__name__)


def keep_response_if_session_fails(request: HttpRequest) -> None:
    """This request's work is committed: a session the database cannot save must not hide it."""
    # An attribute of this request's store; loads nothing from the database.
    request.session.keep_response_if_save_fails = True


class SessionStore(DatabaseSessionStore):
    keep_response_if_save_fails = False

    def save(self, must_create: bool = False) -> None:
        try:
            with bookkeeping():
                super().save(must_create=must_create)
        # Django turns a database error while updating a stored session into UpdateError
        # (which the middleware answers with a 400); a new session's stays DatabaseError.
        except (DatabaseError, UpdateError):
            if not self.keep_response_if_save_fails:
                raise
            # A new session that was never stored keeps no key: its cookie then
            # holds no valid key, and the next request starts a fresh session.
            log.warning(
                "session not saved (database error) after committed work; response sent anyway",
                exc_info=True,
            )
