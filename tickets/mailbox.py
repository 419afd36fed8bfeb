"""The IMAP mailbox ``fetch_mail`` reads (``INBOUND_IMAP_URL``), through imap-tools.

Each message goes through ``tickets.inbound.receive``, the same path as the MTA pipe;
once its row is committed the message is moved to ``INBOUND_IMAP_DONE_FOLDER`` (or
flagged as seen). Two fetchers at once both read the same messages, but the unique
Message-ID lets only one apply each; a fetcher that dies before moving a message
reads it again next time and finds it already stored.
"""

import contextlib
import logging
import ssl
from dataclasses import dataclass, field
from time import monotonic
from urllib.parse import unquote, urlsplit

from django.conf import settings
from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.errors import (
    MailboxCopyError,
    MailboxDeleteError,
    MailboxFlagError,
    MailboxFolderCreateError,
    MailboxMoveError,
)

from tickets import inbound
from tickets.models import InboundEmail

log = logging.getLogger(__name__)
BATCH = 50
# Messages larger than this are fetched one at a time, so a batch never holds
# fifty big attachments in memory at once.
BULK_LIMIT = 1024 * 1024


class RawMessage(MailMessage):
    """imap-tools' message, keeping the bytes as they arrived: inbound.parse reads them."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)


@dataclass
class Run:
    counts: dict = field(default_factory=dict)
    duplicates: int = 0

    def add(self, row):
        if row is None:
            self.duplicates += 1
        else:
            self.counts[row.state] = self.counts.get(row.state, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.duplicates

    def summary(self) -> str:
        parts = [f"{self.counts.get(s.value, 0)} {s.value}" for s in InboundEmail.State]
        return f"read {self.total}: " + ", ".join(parts) + f", {self.duplicates} duplicate"


def connect(url: str):
    """A logged-in mailbox for imaps:// (TLS), imap+tls:// (STARTTLS) or imap:// (plain)."""
    u = urlsplit(url)
    # imaplib's default context checks no certificate at all; this one does.
    context = ssl.create_default_context()
    if u.scheme == "imaps":
        box = MailBox(u.hostname, u.port or 993, timeout=30, ssl_context=context)
    elif u.scheme == "imap+tls":
        box = MailBoxStartTls(u.hostname, u.port or 143, timeout=30, ssl_context=context)
    else:
        box = MailBoxUnencrypted(u.hostname, u.port or 143, timeout=30)
    box.email_message_class = RawMessage
    folder = unquote(u.path.lstrip("/")) or "INBOX"
    box.login(unquote(u.username or ""), unquote(u.password or ""), initial_folder=folder)
    # imaplib keeps the capabilities announced before log-in, where servers (dovecot)
    # leave MOVE out; without it imap-tools moves by COPY + delete, not atomically.
    status, data = box.client.capability()
    if status == "OK" and data and data[-1]:
        box.client.capabilities = tuple(data[-1].decode().upper().split())
    return box


def fetch(url: str, *, max_seconds: float | None = None) -> Run:
    run = Run()
    stop_at = monotonic() + max_seconds if max_seconds else None
    done = settings.INBOUND_IMAP_DONE_FOLDER
    with connect(url) as box:
        if done and not box.folder.exists(done):
            # Another fetcher may have created it in the meantime.
            with contextlib.suppress(MailboxFolderCreateError):
                box.folder.create(done)
        uids = box.uids("ALL" if done else "UNSEEN")
        for start in range(0, len(uids), BATCH):
            if stop_at is not None and monotonic() >= stop_at:
                break
            processed = fetch_batch(box, uids[start : start + BATCH], run)
            finish(box, processed, done)
    return run


def fetch_batch(box, uids: list[str], run: Run) -> list[str]:
    """Store each message of the batch; return the UIDs now safely stored."""
    cap = settings.INBOUND_MAX_SIZE
    heads = {
        m.uid: m
        for m in box.fetch(uid_list=uids, headers_only=True, mark_seen=False, bulk=True)
        if m.uid
    }
    small = [u for u in uids if u in heads and heads[u].size_rfc822 <= min(BULK_LIMIT, cap)]
    large = [u for u in uids if u in heads and BULK_LIMIT < heads[u].size_rfc822 <= cap]
    processed = []
    fetched = list(box.fetch(uid_list=small, mark_seen=False, bulk=True)) if small else []
    for m in fetched:
        run.add(inbound.receive(m.raw, source=InboundEmail.Source.IMAP))
        processed.append(m.uid)
    for uid in large:
        for m in box.fetch(uid_list=[uid], mark_seen=False):
            run.add(inbound.receive(m.raw, source=InboundEmail.Source.IMAP))
            processed.append(m.uid)
    for uid, head in heads.items():
        if head.size_rfc822 > cap:
            # Recorded from its headers alone, held for staff; the message stays on the server.
            run.add(
                inbound.receive(head.raw, source=InboundEmail.Source.IMAP, size=head.size_rfc822)
            )
            processed.append(uid)
    return processed


def finish(box, uids: list[str], done: str):
    if not uids:
        return
    try:
        if done:
            box.move(uids, done)
        else:
            box.flag(uids, "\\Seen", True)
    except (MailboxMoveError, MailboxCopyError, MailboxDeleteError, MailboxFlagError):
        # Another fetcher moved them first: ours are stored, theirs too.
        log.info("fetch_mail: %d messages were already moved", len(uids))
