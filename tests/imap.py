"""A real IMAP server on loopback for the fetch_mail tests: Debian's dovecot-imapd.

The fixture starts its own dovecot with its own configuration in a temporary
directory (a free port on 127.0.0.1, one passwd-file user, maildirs under the same
directory), so nothing global is configured and nothing is left running. Where
dovecot is not installed (`.ci/dovecot.sh` installs it) the tests are skipped and
say why. Import the fixture: ``from tests.imap import imap_server``.
"""

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from tests.smtp import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "mesaayuda", "clave-imap-de-prueba"


def _accounts():
    """Who dovecot's processes run as: ourselves, or its own users when we are root."""
    me = pwd.getpwuid(os.getuid())
    if os.getuid() != 0:
        group = grp.getgrgid(os.getgid()).gr_name
        return me.pw_name, group, me.pw_name, me.pw_uid, os.getgid()
    # As root dovecot refuses to give mail processes UID 0: they run as "dovecot".
    dovecot = pwd.getpwnam("dovecot")
    group = grp.getgrgid(dovecot.pw_gid).gr_name
    return "dovecot", group, "dovenull", dovecot.pw_uid, dovecot.pw_gid


class IMAPServer:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.process = None
        self.config = root / "dovecot.conf"

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def write_config(self):
        internal, group, login, uid, gid = _accounts()
        (self.root / "run").mkdir()
        (self.root / "mail").mkdir()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        os.chown(self.root / "mail", uid, gid)
        self.config.write_text(
            textwrap.dedent(
                f"""\
                base_dir = {self.root}/run
                state_dir = {self.root}/run
                log_path = {self.root}/dovecot.log
                protocols = imap
                listen = 127.0.0.1
                ssl = no
                disable_plaintext_auth = no
                auth_mechanisms = plain
                default_internal_user = {internal}
                default_internal_group = {group}
                default_login_user = {login}
                first_valid_uid = {uid}
                last_valid_uid = {uid}
                mail_location = maildir:{self.root}/mail/%u
                passdb {{
                  driver = passwd-file
                  args = {self.root}/passwd
                }}
                userdb {{
                  driver = static
                  args = uid={uid} gid={gid} home={self.root}/mail/%u
                }}
                namespace inbox {{
                  inbox = yes
                  separator = /
                }}
                service imap-login {{
                  chroot =
                  inet_listener imap {{
                    address = 127.0.0.1
                    port = {self.port}
                  }}
                  inet_listener imaps {{
                    port = 0
                  }}
                }}
                service anvil {{
                  chroot =
                }}
                service stats {{
                  unix_listener stats-reader {{
                    user = {internal}
                  }}
                  unix_listener stats-writer {{
                    user = {internal}
                  }}
                }}
                """
            )
        )

    def start(self):
        self.write_config()
        self.process = subprocess.Popen(  # nosec B603: our own config, no shell
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Dovecot is listening once it accepts a connection; it starts in well
        # under a second, the deadline is for a loaded CI machine.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stderr.read().decode(errors="replace") + self.log)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)  # waiting for a process we started, not for time to pass
        raise RuntimeError("dovecot did not start listening:\n" + self.log)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def mailbox(self, folder="INBOX"):
        return MailBoxUnencrypted("127.0.0.1", self.port).login(USER, PASSWORD, folder)

    def deliver(self, *messages: bytes, folder="INBOX"):
        with self.mailbox() as box:
            for raw in messages:
                box.append(raw, folder)

    def count(self, folder="INBOX") -> int:
        with self.mailbox() as box:
            return box.folder.status(folder)["MESSAGES"] if box.folder.exists(folder) else 0


def start_imap_server(root: Path) -> IMAPServer:
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; see .ci/dovecot.sh)")
    server = IMAPServer(root)
    try:
        server.start()
    except (RuntimeError, OSError, KeyError) as exc:
        server.stop()
        pytest.skip(f"dovecot could not be started here: {exc}"[:500])
    return server


@pytest.fixture
def imap_server(settings):
    root = Path(tempfile.mkdtemp(prefix="mesaayuda-imap-"))
    os.chmod(root, 0o755)  # dovecot's own users must reach the maildirs and the passwd file
    server = start_imap_server(root)
    settings.INBOUND_IMAP_URL = server.url
    settings.INBOUND_IMAP_DONE_FOLDER = "Procesados"
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
