# Amends: a small image that runs `amends serve` as a non-root user.
# Build: docker build -t amends .   Run: docker run --env-file .env -p 3000:3000 amends
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY storage storage
COPY messages messages
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PORT=3000 LOG_FORMAT=json \
    DATABASE_URL=sqlite+aiosqlite:////data/amends.db
RUN useradd --create-home --uid 10001 amends && mkdir /data && chown amends /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER amends
WORKDIR /home/amends
VOLUME ["/data"]
EXPOSE 3000
# /healthz answers 200 only when the database answers and the reminder scheduler runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["amends", "healthcheck"]
# `amends serve` migrates the schema on every start, then serves; SIGTERM stops it cleanly.
CMD ["amends", "serve"]
