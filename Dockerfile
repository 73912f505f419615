# longtail image: same install as `make setup` (scripts/setup.sh), in /app/.venv.
#   docker build -t longtail .
#   docker run --rm --shm-size=2g -v "$PWD/out:/app/out" longtail demo
# Debian 12 (bookworm) variant of python:3.11-slim, matching the development machines.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    RAY_USAGE_STATS_ENABLED=0

# Build deps for the kenlm module and KenLM's lmplz/build_binary (same list as APT_PKGS in
# scripts/setup.sh, which then finds them installed and skips apt).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
      zlib1g-dev libbz2-dev liblzma-dev cmake build-essential \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependency layer: rebuilt only when requirements, pyproject or the setup script change.
COPY requirements.txt pyproject.toml ./
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh --deps-only

# The project itself (editable install into the same venv; writes the setup stamp).
COPY . .
RUN bash scripts/setup.sh

ENV VIRTUAL_ENV=/app/.venv \
    PATH=/app/.venv/bin:$PATH

ENTRYPOINT ["longtail"]
CMD ["--help"]
