#!/usr/bin/env bash
# One sitting of a long run (a preset's rerun, a sweep) made from a fixed commit, never from the tree being edited:
#   benchmark/sitting.sh COMMIT FOLDER run --preset paper-cpu --set data.root=data/cifar10 --quiet
#   benchmark/sitting.sh COMMIT FOLDER sweep --preset budget-cpu --set data.root=data/cifar10 --quiet
# It checks out COMMIT as a worktree beside this checkout (../wt-COMMIT, sharing .venv and data/), copies FOLDER
# (e.g. results/paper-cpu, as committed) to ../sittings/NAME the first time, runs `smate-bench ARGS --out` there
# with the worktree's code, and copies what finished back into FOLDER, where git ignores the weights and arrays.
# Outputs stay outside the worktree, so no run records the commit as dirty; a killed sitting keeps what finished,
# and the next sitting (same COMMIT) resumes from it. A later commit that changes a stage's code or params would
# redo its stages: finish a run at one commit (smate-bench status says what is left).
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n 2,10p "$0" >&2
    exit 2
fi
commit=$(git rev-parse --verify "$1^{commit}")
root=$(git rev-parse --show-toplevel)
folder=$(realpath -m "${2%/}")
shift 2
tree="$root/../wt-${commit:0:7}"
outside="$root/../sittings/$(basename "$folder")"
if [ ! -d "$tree" ]; then
    git -C "$root" worktree add --detach "$tree" "$commit"
fi
if [ "$(git -C "$tree" rev-parse HEAD)" != "$commit" ] || [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
    echo "sitting: $tree is not a clean checkout of $commit; remove it (git worktree remove --force $tree)" >&2
    exit 2
fi
ln -sfn "$root/.venv" "$tree/.venv"
mkdir -p "$root/data"  # where the data lives for both (python3 ../shared/data/unpack_cifar10.py data/cifar10)
[ -L "$tree/data" ] || ln -s "$root/data" "$tree/data"
if [ ! -d "$outside" ] && [ -d "$folder" ]; then
    mkdir -p "$(dirname "$outside")"
    cp -a "$folder" "$outside"
fi
# The CPU presets pin bf16: on a CPU without it natively, a sitting keeps their precision but runs slower.
grep -qE 'avx512_bf16|amx_tile' /proc/cpuinfo 2>/dev/null ||
    echo "sitting: warning: this CPU has no native bf16 (AVX512-BF16 or AMX); a preset that pins bf16 runs slower here" >&2
echo "sitting: smate-bench $* --out $outside, with the code of ${commit:0:7} (started $(date -u +%FT%TZ))"
status=0
(cd "$tree" && PYTHONPATH="$tree" "$tree/.venv/bin/python" -m smate.cli "$@" --out "$outside") || status=$?
mkdir -p "$folder"
tar -C "$outside" --exclude=dataset.npz --exclude='*.pt' --exclude=synthetic.npz --exclude=augmented.npy --exclude=.smate-run.lock \
    --exclude='.smate.*' -cf - . | tar -C "$folder" -xf -
echo "sitting: copied $outside back into $folder (exit $status); commit what finished there"
exit $status
