FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/bot.db

RUN useradd --create-home --uid 10001 bot && mkdir /data && chown bot /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install -e .

USER bot
VOLUME ["/data"]
HEALTHCHECK --interval=5m --timeout=60s --start-period=30s CMD ["smm-bot", "check"]
CMD ["smm-bot"]
