# One image for every Moniqo service: pick the process with the command (see docker-compose.yml).
FROM python:3.13-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
COPY libs ./libs
COPY services ./services
RUN uv sync --frozen --all-packages --no-dev --no-editable

FROM python:3.13-slim
RUN useradd --create-home --uid 10001 moniqo
COPY --from=build --chown=moniqo /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 LOG_FORMAT=json
USER moniqo
WORKDIR /app
CMD ["python", "-m", "gateway"]
