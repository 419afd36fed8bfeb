#!/bin/sh
# The image's entry point: apply migrations when asked (RUN_MIGRATIONS=1), then
# become the command: gunicorn by default, or a manage.py command from cron.
# Several app servers must not all migrate at once: set RUN_MIGRATIONS=1 on one
# (or run it as a one-off container before the others start; see docs/deployment.md).
set -eu
cd "$(dirname "$0")/.."

case "${RUN_MIGRATIONS:-0}" in
    1 | true | yes) python manage.py migrate --noinput ;;
    0 | false | no | "") ;;
    *) echo "RUN_MIGRATIONS must be 1 or 0, not '${RUN_MIGRATIONS}'." >&2; exit 2 ;;
esac

exec "$@"
