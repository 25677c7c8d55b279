# syntax=docker/dockerfile:1
# Every Airside service's image; which service is a build argument. The build context is the
# repository root (docker-compose.yml builds each service this way, with its own arguments):
#   docker build --build-arg SERVICE=booking --build-arg PORT=8001 -t airside-booking .
# At start-up the service migrates its database (Alembic) and seeds its reference data itself,
# so the container runs uvicorn and nothing else.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 airside \
 && useradd --system --uid 10001 --gid airside --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin airside \
 && python -m venv /opt/venv

WORKDIR /app

# Third-party dependencies in a layer of their own, rebuilt only when the pins or the shared
# package's dependency list change; every version comes from constraints.txt. It comes before the
# build arguments, so the three images share it.
COPY constraints.txt ./
COPY shared/pyproject.toml shared/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('shared/pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -c constraints.txt -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The service's package (booking, lounge or callcenter) and the port it serves on.
ARG SERVICE
ARG PORT
RUN test -n "$SERVICE" && test -n "$PORT" \
 || { echo "build with --build-arg SERVICE=<booking|lounge|callcenter> --build-arg PORT=<its port>" >&2; exit 1; }

# The code, read-only for the service's user (root owns it).
COPY shared shared
COPY services/${SERVICE} services/${SERVICE}
RUN pip install -c constraints.txt -e shared -e services/${SERVICE}

# uvicorn reads its app and port from these (UVICORN_<option>), so CMD stays in exec form with no
# shell in front: uvicorn is PID 1 and receives the SIGTERM that starts the drain.
ENV UVICORN_APP=${SERVICE}.main:app \
    UVICORN_PORT=${PORT}

USER airside:airside
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['UVICORN_PORT'], timeout=4).status != 200)"]
CMD ["uvicorn", "--host", "0.0.0.0", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "10"]
