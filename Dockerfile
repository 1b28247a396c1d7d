FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY storage storage
COPY messages messages
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 amends
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER amends
WORKDIR /home/amends
ENV PORT=3000 DATABASE_URL=sqlite+aiosqlite:////home/amends/amends.db
EXPOSE 3000
# The schema is migrated by `amends serve` on every start.
CMD ["amends", "serve"]
