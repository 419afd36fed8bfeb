#!/usr/bin/env bash
# The fetch_mail tests start their own dovecot (tests/imap.py: own config in a temporary
# directory, a free loopback port, no system service), so CI only needs the binary.
# Idempotent: does nothing when dovecot is already installed.
set -euo pipefail
if ! command -v dovecot >/dev/null && [ ! -x /usr/sbin/dovecot ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
fi
# The package starts a system dovecot where an init system runs; the tests do not use it.
/usr/sbin/dovecot --version
