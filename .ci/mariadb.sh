#!/usr/bin/env bash
# CI: a MariaDB on 127.0.0.1:3306 (root, no password) for tests/test_import_hesk.py.
# Idempotent: does nothing when one already answers.
set -euo pipefail
ping() { mysqladmin -h127.0.0.1 -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
ping && exit 0
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  apt-get update -qq && apt-get install -y -qq mariadb-server >/dev/null
fi
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql \
  --bind-address=127.0.0.1 --port=3306
for _ in $(seq 1 30); do ping && break; sleep 1; done
ping || { echo "MariaDB did not start"; exit 1; }
# Debian's root logs in by unix socket; the tests connect over TCP without a password.
mysql -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket" 2>/dev/null || true
mysqladmin -h127.0.0.1 -uroot ping
