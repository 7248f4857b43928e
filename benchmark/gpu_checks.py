"""The GPU checks of the anchors (../shared/docs/anchors.md), with this suite's own code.

    python -m benchmark.gpu_checks --data data/cifar10 --out checks.json

- GAN throughput: the suite's GAN step on the Brownlee DCGAN, at the anchors' batch sizes and
  precisions (eager PyTorch measured 15,400 real images/s at batch 128 in fp32 on an H200), eager
  and replayed as a CUDA graph.
- The `fast` classifier on the full train set, three seeds after one warm-up run: its training
  time and accuracy next to airbench94's (2.46-2.70 s, 90.5-90.7% on the same H200).
Each result is written as soon as it is measured, so a run cut short keeps what it finished.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from smate import atomic
from smate.classify import CLASSIFIERS, resolve_device, train_classifier
from smate.config import defaults
from smate.data import load_dataset
from smate.errors import SmateError
from smate.gan import LOSSES
from smate.gan.step import GANStepper
from smate.gan.train import make_gan, to_unit_range
from smate.pipeline.runinfo import environment

# (batch size, bf16, CUDA graphs, the eager images/s anchors.md measured on an H200, if any).
GAN_SETTINGS = [(128, False, False, 15_400), (128, False, True, None), (128, True, False, 13_700), (128, True, True, None),
                (512, True, False, 53_800), (512, True, True, None), (2048, True, False, 103_000)]
AIRBENCH94 = {"seconds": (2.46, 2.70), "accuracy": (0.905, 0.907)}
WARMUP_SEED = 1000


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gan_throughput(device, batch_size, bf16, graphs=False, steps=50, warmup=10, images=None):
    """Real images/s of the suite's GAN step (D on real and fake, then G) at one setting."""
    params = {**defaults()["gan"]["train"], "batch_size": batch_size, "bf16": bf16}
    graphs = graphs and device.type == "cuda"
    torch.manual_seed(0)
    parts = make_gan(params, device, capturable=graphs)
    if images is None:
        images = np.random.default_rng(0).integers(0, 256, (batch_size, 32, 32, 3), dtype=np.uint8)
    real = to_unit_range(images[:batch_size], device)
    autocast = torch.bfloat16 if bf16 and device.type == "cuda" else None
    step = GANStepper(*parts, LOSSES[params["loss"]](), autocast, graphs)
    for _ in range(warmup):
        stats = step(real)
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        stats = step(real)
    _synchronize(device)
    if not torch.isfinite(stats).all():
        raise RuntimeError(f"GAN step at batch {batch_size}, bf16 {bf16}, graphs {graphs} gave non-finite losses")
    return batch_size * steps / (time.perf_counter() - start)


def classifier_runs(dataset, device, seeds=(0, 1, 2), params=None, minority="truck"):
    """The fast classifier on the full train set, one run per seed, after a warm-up run."""
    params = params or defaults()["classify"]["fast"]
    minority_id = dataset.classes.index(minority)

    def run(seed):
        recipe = CLASSIFIERS["fast"](params, len(dataset.classes))
        result = train_classifier(recipe, dataset.train_images, dataset.train_labels, dataset.test_images,
                                  dataset.test_labels, minority_ids=[minority_id], seed=seed, device=device)
        truck = dataset.test_labels == minority_id
        return {"seed": seed, "train_seconds": result.train_seconds, "epoch_eval_seconds": result.epoch_eval_seconds,
                "predict_seconds": result.predict_seconds,
                "accuracy": float((result.predictions == dataset.test_labels).mean()),
                "minority_recall": float((result.predictions[truck] == minority_id).mean())}

    run(WARMUP_SEED)  # the first run pays for cuDNN's autotuning and the allocator's growth
    return [run(seed) for seed in seeds]


def advice(report):
    """The --set overrides the checks support for the paper preset: CUDA graphs where they beat eager steps at
    the paper's batch of 128 in fp32, else none."""
    rates = {(run["batch_size"], run["bf16"], run["cuda_graphs"]): run.get("images_per_second") for run in report["gan"]}
    eager, graphed = rates.get((128, False, False)), rates.get((128, False, True))
    return "gan.train.cuda_graphs=true" if eager and graphed and graphed > eager else ""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmark.gpu_checks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--advise", metavar="CHECKS_JSON",
                        help="print the overrides an earlier run's results support for the paper preset, and stop")
    parser.add_argument("--data", help="CIFAR-10 as an ImageFolder (train/, test/) or torchvision's folder")
    parser.add_argument("--out", default="checks.json")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=50, help="timed GAN steps per setting")
    args = parser.parse_args(argv)
    if args.advise:
        print(advice(json.loads(Path(args.advise).read_text())))
        return 0
    if not args.data:
        parser.error("--data is required (or --advise CHECKS_JSON)")
    try:
        device = resolve_device(args.device)
        dataset = load_dataset("auto", args.data)
    except SmateError as err:
        print(f"benchmark.gpu_checks: error: {err}", file=sys.stderr)
        return 2
    report = {"environment": environment(device), "gan": [], "fast_classifier": None, "airbench94": AIRBENCH94}
    for batch_size, bf16, graphs, anchor in GAN_SETTINGS:
        setting = {"batch_size": batch_size, "bf16": bf16, "cuda_graphs": graphs, "anchor_images_per_second": anchor}
        try:
            setting["images_per_second"] = gan_throughput(device, batch_size, bf16, graphs, steps=args.steps,
                                                          images=dataset.train_images)
        except RuntimeError as err:  # one failed setting (a graph that will not capture, say) must not cost the rest
            setting["error"] = str(err)
        report["gan"].append(setting)
        atomic.write_json(args.out, report)
        print(f"gan: batch {batch_size}, bf16 {bf16}, graphs {graphs}: "
              f"{setting.get('images_per_second', 0):,.0f} images/s (eager anchor {anchor}) {setting.get('error', '')}", flush=True)
    report["fast_classifier"] = classifier_runs(dataset, device)
    atomic.write_json(args.out, report)
    for run in report["fast_classifier"]:
        print(f"fast seed {run['seed']}: {run['train_seconds']:.2f} s, accuracy {run['accuracy']:.4f}, "
              f"truck recall {run['minority_recall']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
