#!/usr/bin/env bash
# make image-check: build the image with no daemon and no registry, run it on the test fixture, and
# compare its summary with the same run on the host; on the CPU the tiny preset repeats exactly.
#   1. a Debian base (debootstrap), then Debian's Python with the locked torch on it (local-base.Dockerfile);
#   2. the project's Dockerfile on that base, as a GPU host builds it on the CUDA one;
#   3. three runs in the image as its own user: no data mounted (one clear line, exit 2), a results
#      folder it cannot write (one clear line, exit 2), and the tiny preset, compared with the host's.
# Images are kept under fixed tags, so a rerun rebuilds only what changed. Timings: $WORK/image-check.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
export STORAGE_DRIVER=${STORAGE_DRIVER:-overlay}
# crun cannot create containers under this machine's hybrid cgroups; chroot isolation needs none.
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
WORK=${IMAGE_CHECK_DIR:-/tmp/smate-image-check}
PYTHON=${PYTHON:-.venv/bin/python}
SUITE=bookworm
DEBIAN_IMAGE=localhost/smate-debian:$SUITE
LOCAL_BASE=localhost/smate-local-base:$(cat requirements.lock benchmark/image/local-base.Dockerfile | sha256sum | cut -c1-12)
IMAGE=localhost/smate-bench:check

for tool in buildah debootstrap; do
    command -v "$tool" > /dev/null || { echo "image-check: $tool is not installed; apt-get install buildah debootstrap" >&2; exit 2; }
done
rm -rf "$WORK" && mkdir -p "$WORK"
timings=()
step() {  # step NAME COMMAND...: run it, log it, time it
    local name=$1 start=$SECONDS
    shift
    echo "image-check: $name"
    "$@" > "$WORK/$name.log" 2>&1 || { tail -20 "$WORK/$name.log"; echo "image-check: $name failed; its log: $WORK/$name.log" >&2; exit 1; }
    timings+=("\"$name\": $((SECONDS - start))")
}
have_image() { buildah inspect --type image "$1" > /dev/null 2>&1; }

debian_image() {  # chained with &&: set -e does not reach into a function that runs left of ||
    local mirror rootfs=$WORK/rootfs container
    mirror=$(grep -h -m1 -oP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/*.sources 2> /dev/null || echo http://deb.debian.org/debian)
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$SUITE" "$rootfs" "$mirror" \
        && container=$(buildah from scratch) \
        && buildah copy "$container" "$rootfs" / \
        && buildah commit "$container" "$DEBIAN_IMAGE" \
        && buildah rm "$container" \
        && rm -rf "$rootfs"
}
have_image "$DEBIAN_IMAGE" || step debian-base debian_image
if ! have_image "$LOCAL_BASE"; then
    step local-base env BUILDER=buildah bash benchmark/image/build.sh "$LOCAL_BASE" \
        -f benchmark/image/local-base.Dockerfile --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE"
    # A base for an older lock is 6 GB that nothing will use again.
    buildah images --format '{{.Name}}:{{.Tag}}' | grep "^${LOCAL_BASE%:*}:" | grep -vx "$LOCAL_BASE" | xargs -r buildah rmi > /dev/null || true
fi
step image env BUILDER=buildah BASE_IMAGE="$LOCAL_BASE" bash benchmark/image/build.sh "$IMAGE"

container=$(buildah from "$IMAGE")
trap 'buildah rm "$container" > /dev/null' EXIT
buildah inspect --type image "$IMAGE" > "$WORK/inspect.json"
config() { python3 -c 'import json, sys; value = json.load(open(sys.argv[1]))["OCIv1"]["config"][sys.argv[2]]
print(*value, sep="\n") if isinstance(value, list) else print(value)' "$WORK/inspect.json" "$1"; }
mapfile -t entrypoint < <(config Entrypoint)
mapfile -t command < <(config Cmd)
user=$(config User)
in_image() {  # in_image MOUNTS... -- ARGS...: the entrypoint with ARGS, as the image's user
    local mounts=()
    while [ "$1" != -- ]; do mounts+=(--volume "$1"); shift; done
    shift
    buildah run --user "$user" "${mounts[@]}" "$container" -- "${entrypoint[@]}" "$@"
}
expect_error() {  # expect_error NAME PATTERN MOUNTS... -- ARGS...: exit 2 with one line that matches
    local name=$1 pattern=$2 status=0
    shift 2
    in_image "$@" > "$WORK/$name.log" 2>&1 || status=$?
    if [ "$status" != 2 ] || ! grep -q "^smate-bench: error: .*$pattern" "$WORK/$name.log"; then
        cat "$WORK/$name.log"
        echo "image-check: $name: expected exit 2 and an error naming '$pattern', got exit $status" >&2
        exit 1
    fi
    echo "image-check: $name: $(grep '^smate-bench: error' "$WORK/$name.log")"
}

mkdir -p "$WORK/empty-results" "$WORK/root-results" "$WORK/image-results"
chown "${user%%:*}" "$WORK/empty-results" "$WORK/image-results"
chmod 755 "$WORK/root-results"
expect_error no-data "CIFAR-10 is not in '/data'" "$WORK/empty-results:/app/results" -- "${command[@]}"
expect_error unwritable-results "cannot write to '/app/results'" "$WORK/root-results:/app/results" \
    "$PWD/tests/fixtures/cifar10-mini:/data:ro" -- run --preset tiny --set data.root=/data --out /app/results

tiny=(run --preset tiny --quiet)
step host-run "$PYTHON" -m smate.cli "${tiny[@]}" --out "$WORK/host-results"
step image-run in_image "$WORK/image-results:/app/results" "$PWD/tests/fixtures/cifar10-mini:/data:ro" -- \
    "${tiny[@]}" --set data.root=/data --out /app/results
"$PYTHON" benchmark/image/compare_summaries.py "$WORK/host-results/summary.csv" "$WORK/image-results/summary.csv"

size=$(buildah images --format '{{.Size}}' "$IMAGE")
printf '{%s, "image_size": "%s"}\n' "$(printf '%s, ' "${timings[@]}" | sed 's/, $//')" "$size" > "$WORK/image-check.json"
echo "image-check: passed; image $IMAGE ($size); seconds per step: $(cat "$WORK/image-check.json")"
