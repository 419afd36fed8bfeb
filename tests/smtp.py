"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests.

The fixtures ``smtp_server`` and ``smtp_down`` are available to every test (tests/conftest.py).
``smtp_server`` is listening; ``smtp_down`` is configured but nothing listens on its
port until the test calls ``.start()``.
"""

import logging
import socket
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO: noise in a failing test's output.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    message: EmailMessage

    @property
    def subject(self):
        # Django folds a long non-ASCII subject right after "Subject:"; the
        # parser keeps that fold's space, mail clients do not show it.
        return self.message["Subject"].strip()

    @property
    def text(self):
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self):
        return self.message.get_body(("html",)).get_content()


class Inbox:
    """The server's handler: keeps every accepted message.

    ``rcpt_replies`` maps a recipient to the reply RCPT gives it instead of
    accepting ("451 …": try later); ``data_replies`` to the reply DATA gives a
    message for it ("421 …": the client drops the connection).
    """

    def __init__(self):
        self.messages: list[Received] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_replies: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            if rcpt in self.data_replies:
                return self.data_replies[rcpt]
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address):
        return [m for m in self.messages if address in m.rcpt_tos]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self._controller = None

    @property
    def messages(self):
        return self.inbox.messages

    def start(self):
        # server_hostname spares a reverse DNS look-up per start.
        self._controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="localhost",
            ready_timeout=5,
        )
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def _configure(settings, server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_down(settings):
    server = SMTPServer()
    _configure(settings, server)
    yield server
    server.stop()


@pytest.fixture
def smtp_server(smtp_down):
    smtp_down.start()
    return smtp_down
