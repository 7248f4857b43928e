"""GAN recipes at paper-cpu's scale, each given the same CPU minutes: the pretraining on the majority classes
and SMate's transfer to the trucks, scored on the features of paper-cpu's own feature net.

    python -m benchmark.gan_recipes --data DIR --out OUT [--recipes a,b] [--pretrain-minutes 20]
        [--transfer-minutes 6] [--workers 2]
    python -m benchmark.gan_recipes --out OUT --table     # table.md again from OUT/recipes.json

OUT/base holds the prepared set, the split and the feature net every recipe is scored with; OUT/<recipe>
each recipe's trainings (one worker process of one thread each). OUT/recipes.json holds the scores,
OUT/table.md the table, OUT/grids/ each generator's last sample grid.
"""

import argparse
import json
import multiprocessing
import platform
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from tabulate import tabulate

from smate import atomic
from smate.classify import extract_features, predict_labels
from smate.cli import main as cli
from smate.config import build_config, split_seed_of
from smate.gan import build_gan, quality, sample
from smate.gan.collapse import collapsed
from smate.pipeline.gan_stages import gan_quality, steps_per_epoch, load_classifier, pretrain_gan, synthesize, transfer_gan
from smate.report.layout import feature_net_path, gan_dir, generator_dir, training_dir
from smate.pipeline.stages import load_prepared, load_split

PRESET = "paper-cpu"  # the scale the table is for; --preset tiny runs the study in a test
# Each recipe: the --set overrides on paper-cpu's GAN, and what it tries. Each sets every part the study varies,
# from the paper's recipe up, so that a recipe means the same whatever paper-cpu's defaults are (they are
# ema-diffaugment-r1's since this study; paper-cpu's overrides were none when it ran).
PAPER_RECIPE = ["gan.train.ema=0.0", "gan.pretrain.diffaugment=false", "gan.transfer.diffaugment=false",
                "gan.train.beta1=0.5", "gan.train.beta2=0.999", "gan.train.r1=0.0"]
EMA_DIFFAUGMENT = [*PAPER_RECIPE, "gan.train.ema=0.999", "gan.pretrain.diffaugment=true", "gan.transfer.diffaugment=true",
                   "gan.train.beta1=0.0", "gan.train.beta2=0.99"]
RECIPES = {
    "paper-cpu": (PAPER_RECIPE, "paper-cpu's recipe before this study: dcgan_sn, hinge, Adam 2e-4 (0.5, 0.999), batch 64"),
    "ema-diffaugment": (EMA_DIFFAUGMENT, "paper-cpu + an EMA of G (0.999), DiffAugment in both trainings, Adam (0, 0.99)"),
    "ema-diffaugment-r1": ([*EMA_DIFFAUGMENT, "gan.train.r1=0.2"], "ema-diffaugment + R1 (gamma 0.2)"),
    "ema-diffaugment-ttur": ([*EMA_DIFFAUGMENT, "gan.train.lr=0.0001", "gan.train.lr_d=0.0004"],
                             "ema-diffaugment + the two time-scale rule (G 1e-4, D 4e-4)"),
}
# Where a finished study is committed (its table regenerates from its JSON in the tests).
REPO_RESULTS = Path(__file__).resolve().parents[1] / "results" / "gan-recipes-cpu"
SCORED = 1000  # pretrained samples scored against as many held-out majority images


def config_of(recipe, data, preset=PRESET, extra=()):
    return build_config(preset=preset, overrides=[f"data.root={data}", "seeds=0", "methods=imbalanced,smate",
                                                  *RECIPES[recipe][0], *extra])


def make_base(data, base, preset):
    for command in ("prepare", "split", "feature-net"):
        cli([command, "--preset", preset, "--set", f"data.root={data}", "--out", str(base), "--quiet"])


def train_recipe(recipe, data, out, base, pretrain_seconds, transfer_seconds, preset, extra):
    torch.set_num_threads(1)
    shutil.copytree(Path(base) / "prepared", Path(out) / "prepared", dirs_exist_ok=True)
    feature_net_path(out).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(feature_net_path(base), feature_net_path(out))
    config = config_of(recipe, data, preset, extra)
    start = time.perf_counter()
    pretrain_gan(config, out, 0, progress=False, time_budget=pretrain_seconds)
    middle = time.perf_counter()
    transfer_gan(config, out, "smate", 0, progress=False, time_budget=transfer_seconds)
    return {"pretrain_minutes": (middle - start) / 60, "transfer_minutes": (time.perf_counter() - middle) / 60}


def score_recipe(recipe, data, out, preset, extra):
    """Scores of the pretrained generator (against held-out majority images) and of SMate's transfer (held-out trucks)."""
    config = config_of(recipe, data, preset, extra)
    batch_size = config["gan"]["train"]["batch_size"]
    synthesize(config, out, "smate", 0)
    gan_quality(config, out, "smate")
    transferred = json.loads((gan_dir(out, "smate") / "quality.json").read_text())["classes"]["truck"]
    dataset, split = load_prepared(out), load_split(out, split_seed_of(config, 0))
    truck = split["minority_ids"][0]
    saved, model = load_classifier(feature_net_path(out), "cpu")
    generator, _ = build_gan(config["gan"]["train"], dataset.train_images.shape[-1], dataset.train_images.shape[1:3])
    generator.load_state_dict(torch.load(training_dir(out, "pretrained", 0) / "generator.pt", weights_only=True))
    majority = dataset.test_images[dataset.test_labels != truck]
    heldout = majority[np.random.default_rng(0).choice(len(majority), min(SCORED, len(majority)), replace=False)]
    made = sample(generator, len(heldout), seed=0)
    real_features, fake_features = (extract_features(model, images, saved["normalization"]) for images in (heldout, made))
    precision, recall = quality.precision_recall(real_features, fake_features)
    pretrained = {"frechet_distance": quality.frechet_distance(real_features, fake_features), "precision": precision,
                  "recall": recall, "called_truck": float((predict_labels(model, made, saved["normalization"]) == truck).mean())}
    return {"pretrained": {**pretrained, **_training(training_dir(out, "pretrained", 0), batch_size)},
            "transferred": {"frechet_distance": transferred["frechet_distance"], "precision": transferred["precision"],
                            "recall": transferred["recall"], "called_truck": transferred["classified_as_class"]["synthetic"],
                            "real_called_truck": transferred["classified_as_class"]["heldout"],
                            **_training(generator_dir(out, "smate", "truck", 0), batch_size)},
            "feature_net_accuracy": saved["accuracy"]}


def _training(folder, batch_size):
    record = json.loads((folder / "history.json").read_text())
    history = record["history"]
    last = history[-1]
    return {"epochs": len(history), "steps": len(history) * steps_per_epoch(record["n_images"], batch_size), "seconds": sum(h["seconds"] for h in history),
            "sample_ssim": last["sample_ssim"], "real_ssim": record["real_ssim"],
            "collapsed": collapsed(last["sample_ssim"], record["real_ssim"]),
            "grid": sorted((folder / "samples").glob("epoch_*.png"))[-1].as_posix()}


def table(results):
    """The recipe table, from recipes.json alone."""
    rows = []
    for recipe, entry in results["recipes"].items():
        for stage in ("pretrained", "transferred"):
            score = entry[stage]
            rows.append([recipe if stage == "pretrained" else "", stage, f"{score['steps']:,}", f"{score['seconds'] / 60:.1f}",
                         f"{score['frechet_distance']:.1f}", f"{score['precision']:.3f}", f"{score['recall']:.3f}",
                         f"{100 * score['called_truck']:.1f}%", f"{score['sample_ssim']:.2f} ({score['real_ssim']:.2f})"
                         + (" collapsed" if score["collapsed"] else ""), f"grids/{recipe}-{stage}.png"])
    machine = results["machine"]
    return "\n\n".join([
        f"GAN recipes at {results['preset']}'s scale{_with(results['overrides'])}, each with at most "
        f"{results['pretrain_minutes']:g} minutes of pretraining and {results['transfer_minutes']:g} of SMate's transfer "
        f"(less where the epochs asked for end sooner: the minutes column) on one thread of a {machine['cpu']} "
        f"({machine['workers']} recipes at once), seed 0, commit {results['commit'][:7]}, torch {machine['torch']}. "
        f"One training per recipe: descriptive, not a verdict.",
        f"FD, precision and recall on the penultimate features of the preset's feature net (its classifier on the full "
        f"train set, test accuracy {100 * results['feature_net_accuracy']:.1f}%): the pretrained generator against "
        f"up to {SCORED:,} held-out majority images, the transferred one against the held-out trucks, of which the "
        f"feature net calls {100 * results['real_called_truck']:.1f}% trucks. \"SSIM\": the collapse signal.",
        tabulate(rows, headers=["recipe", "generator", "steps", "minutes", "FD", "precision", "recall", "called truck",
                                "samples' SSIM (real)", "grid"], tablefmt="github"),
        "\n".join(f"- {recipe}: {entry['what']} ({' '.join(entry['overrides']) or 'no overrides'})"
                  for recipe, entry in results["recipes"].items()),
    ]) + "\n"


def _with(overrides):
    return f" (with {' '.join(overrides)})" if overrides else ""


def _train_job(args):
    return args[0], train_recipe(*args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data")
    parser.add_argument("--out", required=True)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--pretrain-minutes", type=float, default=20)
    parser.add_argument("--transfer-minutes", type=float, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preset", default=PRESET)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="an override for every recipe")
    parser.add_argument("--table", action="store_true", help="write table.md again from recipes.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.table:
        atomic.write_text(out / "table.md", table(json.loads((out / "recipes.json").read_text())))
        return
    recipes = args.recipes.split(",")
    unknown = [name for name in recipes if name not in RECIPES]
    if unknown or not args.data:
        raise SystemExit(f"gan_recipes: give --data and recipes from {', '.join(RECIPES)}" + (f" (not {unknown[0]})" if unknown else ""))
    base = out / "base"
    if not feature_net_path(base).is_file():
        make_base(args.data, base, args.preset)
    jobs = [(name, args.data, out / name, base, 60 * args.pretrain_minutes, 60 * args.transfer_minutes, args.preset, args.set)
            for name in recipes]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        timings = dict(pool.map(_train_job, jobs))
    torch.set_num_threads(args.workers)
    results = {"preset": args.preset, "overrides": args.set, "pretrain_minutes": args.pretrain_minutes, "transfer_minutes": args.transfer_minutes,
               "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
               "machine": {"cpu": _cpu_name(), "workers": args.workers, "torch": torch.__version__.split("+")[0],
                           "python": platform.python_version()},
               "recipes": {}}
    for name in recipes:
        scores = score_recipe(name, args.data, out / name, args.preset, args.set)
        for stage in ("pretrained", "transferred"):
            atomic.write_bytes(out / "grids" / f"{name}-{stage}.png", Path(scores[stage].pop("grid")).read_bytes())
        results["feature_net_accuracy"] = scores.pop("feature_net_accuracy")
        results["real_called_truck"] = scores["transferred"].pop("real_called_truck")
        results["recipes"][name] = {**scores, "wall": timings[name], "overrides": RECIPES[name][0],
                                    "what": RECIPES[name][1]}
    atomic.write_json(out / "recipes.json", results)
    atomic.write_text(out / "table.md", table(results))
    print(table(results))


def _cpu_name():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
