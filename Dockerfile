# syntax=docker/dockerfile:1
# Mesa de Ayuda SIGEC (see docs/deployment.md)
#   docker build -t mesaayuda .                          # add --build-arg EXTRAS=s3,redis for object storage / Redis
#   docker run --env-file .env -p 8000:8000 -v mesaayuda-data:/data mesaayuda
#   docker run --env-file .env -e RUN_MIGRATIONS=1 mesaayuda true          # migrate only
#   docker run --env-file .env mesaayuda python manage.py send_queued_mail # a cron job

# --- build: dependencies into a virtualenv, translations compiled, static collected --------
FROM python:3.11-slim AS build
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# msgfmt for compilemessages; the runtime image does without it.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /app
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install ".${EXTRAS:+[$EXTRAS]}"
COPY . .
# The same script the tests run (tests/test_production.py).
RUN sh docker/build-steps.sh /app/staticfiles

# --- runtime: no compiler, no gettext, not root ---------------------------------------------
FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANG=C.UTF-8 \
    DEBUG=0 \
    PORT=8000 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    SNAPSHOT_DIR=/data/snapshots
# espeak-ng speaks the captcha in Spanish, the audio alternative to its image (WCAG 1.1.1).
RUN apt-get update \
 && apt-get install --yes --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /venv /venv
# The code stays owned by root: the app user can read it, not change it.
COPY --from=build /app /app
# Attachments (and a SQLite file, for a trial) live on the /data volume, never served
# directly: downloads go through the view that checks the tracking ID.
RUN mkdir -p /data/media /data/snapshots \
 && chown -R app:app /data
VOLUME ["/data"]
WORKDIR /app
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "docker/healthcheck.py"]
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "mesaayuda.wsgi"]
