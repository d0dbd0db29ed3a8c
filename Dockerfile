# The base: Python 3.11 on Debian 12. Pin it by digest so that a rebuild gets the same system:
#   docker pull python:3.11-slim-bookworm
#   docker inspect --format '{{index .RepoDigests 0}}' python:3.11-slim-bookworm
# and build with --build-arg BASE=python:3.11-slim-bookworm@sha256:<that digest> (or write it
# here). Repeat to take the base's security fixes. Any Debian-like image with python3 and its
# venv module will do (scripts/docker-smoke.sh builds on one made with debootstrap).
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH DATABASE_PATH=/data/bot.db

RUN useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data \
    && python3 -m venv /opt/venv
WORKDIR /app
# The pinned packages first, in a layer of their own: a change to the code reuses it.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps --no-build-isolation . && rm -rf build ./*.egg-info

USER bot
VOLUME ["/data"]
# The bot touches /data/heartbeat every 30 s while it serves; a panel that is down does not
# make it unhealthy (`smm-bot check` is for the operator, it asks the panel).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["smm-bot", "health"]
CMD ["smm-bot"]
