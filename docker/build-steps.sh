#!/bin/sh
# The image's build steps (the Dockerfile RUNs this), kept in a script so the
# tests run the very same steps without a Docker engine:
#   docker/build-steps.sh [STATIC_ROOT]
# compiles the translations (.po -> .mo, in place) and collects the static files
# into STATIC_ROOT, hashed and compressed for whitenoise.
set -eu
cd "$(dirname "$0")/.."

STATIC_ROOT="${1:-${STATIC_ROOT:-$PWD/staticfiles}}"
export STATIC_ROOT
# Production settings, so collectstatic uses the manifest storage. Nothing here
# signs, serves or stores anything: the key and hosts are placeholders that only
# satisfy the start-up checks, and the database is never opened.
export DEBUG=0
export SECRET_KEY="build-time-placeholder-never-used-to-sign-anything-0123456789"
export ALLOWED_HOSTS=build.invalid
export PUBLIC_SITE_URL=https://build.invalid
export DATABASE_URL="sqlite:///:memory:"
export FILE_STORAGE=django.core.files.storage.FileSystemStorage
export EMAIL_URL=dummymail://
unset CACHE_URL

python manage.py compilemessages --ignore=.venv --ignore=node_modules --verbosity=0
python manage.py collectstatic --noinput --verbosity=0
