# A stand-in for the CUDA base that builds with no registry: Debian's Python 3.11 and the torch that
# requirements.lock pins, in a venv on PATH as `python` (the pytorch/pytorch images put conda's there).
ARG DEBIAN_IMAGE=localhost/smate-debian:bookworm
FROM ${DEBIAN_IMAGE}

ENV PATH=/opt/venv/bin:$PATH \
    LANG=C.UTF-8

COPY requirements.lock /tmp/requirements.lock
RUN python3 -m venv /opt/venv \
    && python -m pip install --no-cache-dir --progress-bar off -c /tmp/requirements.lock torch torchvision \
    && rm /tmp/requirements.lock
