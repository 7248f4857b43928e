#!/usr/bin/env bash
# One prepared device session (see README, Performance checks): the anchors' checks, then the timing run.
# Through the device tool, from the repository root, carrying .whl (kornia, kornia_rs, imbalanced-learn,
# sklearn-compat wheels for Python 3.12) and .device-data (cifar10-jpeg.npz, unpack_cifar10.py):
#   bash benchmark/gpu_session.sh            # the paper preset; CUDA graphs if the checks saw them win
#   SMATE_SET="gan.train.batch_size=512 gan.train.bf16=true" bash benchmark/gpu_session.sh
#   SMATE_SET= bash benchmark/gpu_session.sh    # params.yaml exactly
# Everything it measures lands in $OUT as soon as it is measured: 8 files, the most a device call returns.
set -uo pipefail
OUT=${OUT:-/tmp/smate-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/nvidia-smi.csv"
python3 .device-data/unpack_cifar10.py /tmp/cifar10 > /dev/null || exit 1

timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_gan.py -k graph 2>&1 | tee "$OUT/gpu-tests.log"
timeout "${CHECKS_SECONDS:-150}" python3 -m benchmark.gpu_checks --data /tmp/cifar10 --out "$OUT/checks.json" 2>&1 | tee "$OUT/checks.log"

# Unless SMATE_SET says otherwise, the GAN replays CUDA graphs when the checks saw them beat eager steps at batch 128.
if [ -z "${SMATE_SET+set}" ]; then
    SMATE_SET=$(python3 -m benchmark.gpu_checks --advise "$OUT/checks.json" 2>>"$OUT/checks.log")
fi
echo "timing run with: ${SMATE_SET:-params.yaml as it is}" | tee "$OUT/timing.log"
overrides=(--set data.root=/tmp/cifar10)
for pair in ${SMATE_SET:-}; do overrides+=(--set "$pair"); done
timeout "${RUN_SECONDS:-400}" python3 -m benchmark.gpu "${overrides[@]}" --out /tmp/paper --quiet 2>&1 | tee -a "$OUT/timing.log"
cp /tmp/paper/timing.json /tmp/paper/timing.md "$OUT/" 2>/dev/null
# Runs, summaries, report and GAN histories; not the checkpoints, weights or synthetic arrays.
tar -czf "$OUT/results.tar.gz" --exclude='*.pt' --exclude='*.npz' --exclude=prepared -C /tmp paper
