#!/usr/bin/env bash
# make image: build the Dockerfile with the builder this host has: docker (with a running engine),
# podman, or buildah (no daemon). BUILDER forces one, BASE_IMAGE replaces the CUDA base; arguments
# after the tag go to the builder as they are (e.g. -f another.Dockerfile).
#   bash benchmark/image/build.sh [TAG [BUILD ARGS...]]
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-smate-bench}
shift || true
builder=${BUILDER:-}
if [ -z "$builder" ]; then
    if docker info > /dev/null 2>&1; then builder=docker
    elif command -v podman > /dev/null; then builder=podman
    elif command -v buildah > /dev/null; then builder=buildah
    else
        echo "make image: no image builder here; start a Docker engine, or install podman or buildah (apt-get install buildah)" >&2
        exit 2
    fi
fi
args=(--build-arg SMATE_GIT_COMMIT="$(git rev-parse HEAD 2> /dev/null || echo unknown)" -t "$tag")
[ -n "${BASE_IMAGE:-}" ] && args+=(--build-arg BASE_IMAGE="$BASE_IMAGE")
case $builder in
    docker) exec docker build "${args[@]}" "$@" . ;;
    # Daemonless builders run pip with this host's pip settings mounted: its proxy CA and local indexes.
    # shellcheck disable=SC2046  # the mounts are words on purpose
    podman) exec podman build --layers $(python3 benchmark/image/pip_mounts.py) "${args[@]}" "$@" . ;;
    # shellcheck disable=SC2046
    buildah) exec buildah bud --layers $(python3 benchmark/image/pip_mounts.py) "${args[@]}" "$@" . ;;
    *) echo "make image: BUILDER must be docker, podman or buildah, got '$builder'" >&2; exit 2 ;;
esac
