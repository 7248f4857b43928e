# The smate-bench pipeline on a GPU:
#   docker build -t smate-bench --build-arg SMATE_GIT_COMMIT="$(git rev-parse HEAD)" .
#   docker run --gpus all -v /path/to/cifar10:/data -v "$PWD/results:/app/results" smate-bench
# The base ships the torch that requirements.lock pins (2.14.1 built for CUDA 13.0), so pip keeps it.
# Any base with that torch and `python` on PATH will do: `make image-check` builds one from Debian, offline.
ARG BASE_IMAGE=pytorch/pytorch:2.14.1-cuda13.0-cudnn9-runtime
FROM ${BASE_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app

# The lock CI installs from comes first, so that a code change reuses this layer; a lock change reuses the cache.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/pip python -m pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY smate ./smate
# setuptools comes from the lock too, so the build needs no isolated environment of its own.
RUN python -m pip install --no-cache-dir --no-deps --no-build-isolation .

COPY params.yaml dvc.yaml ./
COPY sweep ./sweep
COPY paper ./paper

# No .git goes into the image; the commit recorded in every metrics.json comes from here.
ARG SMATE_GIT_COMMIT=unknown
ENV SMATE_GIT_COMMIT=${SMATE_GIT_COMMIT}

# A fixed numeric user that no base image claims; run with --user "$(id -u):$(id -g)" to write as yourself.
RUN useradd --create-home --uid 10001 --user-group smate \
    && mkdir -p /app/results /data \
    && chown 10001:10001 /app/results /data
USER 10001:10001

ENTRYPOINT ["smate-bench"]
CMD ["run", "--set", "data.root=/data", "--out", "/app/results", "--reproduction", "/app/results/REPRODUCTION.md"]
