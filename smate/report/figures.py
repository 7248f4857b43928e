"""The paper's figures (and one it lacks), drawn with seaborn from results files alone, as PNG and SVG."""

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
from adjustText import adjust_text
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
import numpy as np
import pandas as pd
import seaborn as sns
from PIL import Image

from .. import atomic
from ..rebalance import family_of
from . import layout
from .styles import COLOURS, MARKERS, by_family, markers, method_styles, palette

# A fixed SVG hash salt and no dates keep reruns byte-identical.
plt.rcParams["svg.hashsalt"] = "smate-bench"
METADATA = {"svg": {"Date": None}, "png": {}}


def _save(figure, out, name, vector=True):
    """The figure as PNG and, unless it only shows images (an SVG of pixels is the PNG again, larger), as SVG."""
    for kind in ("png", "svg") if vector else ("png",):
        with atomic.atomic_path(Path(out) / f"{name}.{kind}") as tmp:
            figure.savefig(tmp, format=kind, dpi=120, bbox_inches="tight", metadata=METADATA[kind])
    plt.close(figure)
    return name


def _order(runs):
    """Methods grouped by family, in the order the runs come (the params' order) within each."""
    return by_family(dict.fromkeys(run["method"] for run in runs))


def _legend(axis, styles):
    """One legend entry per method under a colour patch naming its family."""
    handles = []
    for family in dict.fromkeys(style.family for style in styles.values()):
        handles.append(Patch(color=COLOURS[family], label=family))
        handles += [Line2D([], [], color=style.colour, marker=style.marker, linestyle="", label=f"  {method}")
                    for method, style in styles.items() if style.family == family]
    axis.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))


def _method_lines(frame, x, y, styles, axis, **options):
    """A line per method, mean ± sd over seeds, in its family's colour with its own marker."""
    sns.lineplot(frame, x=x, y=y, hue="method", hue_order=list(styles), palette=palette(styles), style="method",
                 style_order=list(styles), markers=markers(styles), dashes=False, errorbar="sd", legend=False, ax=axis,
                 **options)


def _history_frame(runs):
    rows = [{"method": run["method"], "seed": run["seed"], **epoch} for run in runs for epoch in run["history"]]
    return pd.DataFrame(rows)


def accuracy_per_epoch(runs, out):
    """The paper's Fig 5: train and test accuracy per epoch, full against imbalanced data."""
    frame = _history_frame([r for r in runs if r["method"] in ("full", "imbalanced")])
    if frame.empty:
        return None
    long = frame.melt(id_vars=["method", "seed", "epoch"], value_vars=["train_accuracy", "test_accuracy"],
                      var_name="split", value_name="accuracy")
    figure, axis = plt.subplots(figsize=(6, 4))
    sns.lineplot(long, x="epoch", y="accuracy", hue="method", hue_order=_order(frame.to_dict("records")), style="split",
                 errorbar="sd", ax=axis)
    axis.set_title("Accuracy per epoch (mean ± sd over seeds)")
    return _save(figure, out, "fig5_accuracy_per_epoch")


BASELINE = "imbalanced"  # drawn in every panel of the per-epoch figure, as what each family is measured against


def _panels(count, width=4.6, height=3.4, most_columns=3):
    """A figure of `count` panels, at most `most_columns` a row; the unused ones hidden."""
    columns = min(most_columns, count)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for axis in axes.flat[count:]:
        axis.set_visible(False)
    return figure, list(axes.flat[:count])


def _mean_band(axis, frame, x, y, label, colour, marker=None, clip=(0, 1), **line):
    """The mean of `y` over seeds at each x, with a band of ± one sd, clipped to `clip` (None: not clipped)."""
    stats = frame.groupby(x)[y].agg(["mean", "std"]).fillna(0.0)
    axis.plot(stats.index, stats["mean"], color=colour, marker=marker, markersize=4, label=label,
              markevery=max(1, len(stats) // 6), **line)
    lower, upper = stats["mean"] - stats["std"], stats["mean"] + stats["std"]
    if clip is not None:
        lower, upper = lower.clip(*clip), upper.clip(*clip)
    axis.fill_between(stats.index, lower, upper, color=colour, alpha=0.15, linewidth=0)


def minority_per_epoch(runs, out):
    """The paper's Fig 10 as small multiples: minority recall per epoch, a panel per family on its own epoch axis
    (SAMME's rounds run five times as many), each method its mean ± sd over seeds in [0, 1], the family's best
    (highest last recall) drawn heavier, and imbalanced, the baseline, dashed grey in every other panel."""
    frame = _history_frame(runs)
    if frame.empty:
        return None
    families = {}
    for method in _order(runs):
        if (frame["method"] == method).any():
            families.setdefault(family_of(method), []).append(method)
    figure, axes = _panels(len(families))
    baseline = frame[frame["method"] == BASELINE]
    for axis, (family, methods) in zip(axes, families.items()):
        mine = frame[frame["method"].isin(methods)]
        last = mine[mine["epoch"] == mine.groupby("method")["epoch"].transform("max")]
        best = last.groupby("method")["minority_recall"].mean().idxmax()
        colours = sns.color_palette("colorblind", 10)
        for index, method in enumerate(methods):
            _mean_band(axis, mine[mine["method"] == method], "epoch", "minority_recall", method, colours[index % 10],
                       MARKERS[index % len(MARKERS)], linewidth=2.4 if method == best and len(methods) > 1 else 1.2)
        # The baseline only where its epochs span this panel's (not squashed into SAMME's rounds).
        if BASELINE not in methods and not baseline.empty and 2 * baseline["epoch"].max() >= mine["epoch"].max():
            stats = baseline.groupby("epoch")["minority_recall"].mean()
            axis.plot(stats.index, stats.values, color="grey", linestyle="--", linewidth=1, label=BASELINE)
        axis.set_ylim(0, 1)
        axis.set_title(family, fontsize=10)
        axis.set_xlabel("epoch", fontsize=8)
        axis.set_ylabel("minority recall", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6.5, loc="upper left", framealpha=0.85, edgecolor="none")
    figure.suptitle("Minority recall per epoch, a panel per family (mean ± sd over seeds; the family's best heavier)")
    figure.tight_layout()
    return _save(figure, out, "fig10_minority_per_epoch")


def confusion_matrices(runs, out, methods=("imbalanced", "smate")):
    """The paper's Fig 11: row-normalised confusion matrices, summed over seeds."""
    chosen = [m for m in methods if any(r["method"] == m for r in runs)]
    if not chosen:
        return None
    classes = list(runs[0]["per_class"])
    figure, axes = plt.subplots(1, len(chosen), figsize=(6 * len(chosen), 5), squeeze=False)
    for axis, method in zip(axes[0], chosen):
        total = sum(np.array(r["confusion_matrix"]) for r in runs if r["method"] == method)
        normalised = total / total.sum(1, keepdims=True)
        sns.heatmap(normalised, annot=True, fmt=".2f", cmap="Blues", xticklabels=classes, yticklabels=classes,
                    cbar=False, ax=axis, annot_kws={"size": 7})
        axis.set_title(f"{method}: true (rows) vs predicted")
    return _save(figure, out, "fig11_confusion")


def recall_vs_accuracy(runs, out):
    """Not in the paper: minority recall against accuracy for every method, mean ± sd over seeds, each point named
    by a label that adjustText moves off the others and inside the frame; methods whose runs give the same
    numbers are one point with both names."""
    frame = pd.DataFrame([{"method": r["method"], "accuracy": r["accuracy"], "minority_recall": r["minority_recall"]}
                          for r in runs])
    stats = frame.groupby("method", sort=False).agg(["mean", "std"])
    styles = method_styles(_order(runs))
    points = {}  # (x, y, their sds) -> the methods drawn there
    for method in styles:
        row = stats.loc[method]
        place = tuple(round(float(row[(metric, kind)]), 9) for metric in ("accuracy", "minority_recall")
                      for kind in ("mean", "std"))
        points.setdefault(place, []).append(method)
    figure, axis = plt.subplots(figsize=(8, 6.5))
    labels = []
    for (x, x_sd, y, y_sd), methods in points.items():
        style = styles[methods[0]]
        axis.errorbar(x, y, xerr=x_sd, yerr=y_sd, fmt=style.marker, color=style.colour, capsize=3, alpha=0.9)
        labels.append(axis.text(x, y, " = ".join(methods), fontsize=6, color=style.colour))
    axis.set_xlabel("test accuracy")
    axis.set_ylabel("minority recall")
    axis.margins(0.12)
    _legend(axis, styles)
    axis.set_title("Minority recall vs accuracy (mean ± sd over seeds)")
    # An iteration limit, not its default time limit, so that a rerun places every label where it did before.
    adjust_text(labels, ax=axis, ensure_inside_axes=True, iter_lim=500,
                arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5})
    return _save(figure, out, "recall_vs_accuracy")


# What a paired test against the imbalanced run concluded (report.forest), as the forest plot marks it.
VERDICT_MARKS = {"holds": "better", "does not hold": "worse", "not significant": "n.s.", "descriptive": "1 generator",
                 "untested": "untested"}


def forest_plot(rows, reference, out):
    """Not in the paper: each method's paired difference from `reference` on each metric, mean and 95% t-interval
    over seeds in percentage points, sorted; filled markers where the corrected test found a difference."""
    metrics = list(dict.fromkeys(row["metric"] for row in rows))
    styles = method_styles(by_family(dict.fromkeys(row["method"] for row in rows)))
    height = 1.2 + 0.28 * len(styles)
    figure, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), height), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        mine = sorted((row for row in rows if row["metric"] == metric), key=lambda row: row["difference"])
        for place, row in enumerate(mine):
            style = styles[row["method"]]
            mark = VERDICT_MARKS[row["verdict"].split(" (")[0]]
            filled = mark in ("better", "worse")
            interval = None if np.isnan(row["half_width"]) else 100 * row["half_width"]  # one seed: no interval
            axis.errorbar(100 * row["difference"], place, xerr=interval, fmt=style.marker, color=style.colour,
                          markerfacecolor=style.colour if filled else "white", capsize=2)
            axis.annotate(mark, (1.01, place), xycoords=("axes fraction", "data"), va="center", fontsize=7)
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(range(len(mine)), [row["method"] for row in mine], fontsize=7)
        axis.set_ylim(-0.7, len(mine) - 0.3)
        axis.set_xlabel(f"{metric.replace('_', ' ')}: difference from {reference} (points)")
    figure.suptitle(f"Paired difference from {reference} over seeds (mean, 95% t-interval); verdict after Holm's "
                    "correction over the methods", fontsize=9)
    figure.tight_layout()
    return _save(figure, out, "forest")


# Each sweep's figure: its file name and title.
SWEEP_FIGURES = {"ratio": ("ratio_sweep", "Each method as the imbalance grows (mean ± sd over seeds)"),
                 "epochs": ("budget_sweep", "Each method as its training budget grows (mean ± sd over seeds)")}


def sweep_figure(rows, methods, out, over, axis_label):
    """Not in the paper: minority recall and balanced accuracy against the swept value (the minority ratio or the
    classifier's epochs), a line per method with a band of ± one sd over seeds."""
    frame = pd.DataFrame(rows)
    styles = method_styles(by_family(methods))
    name, title = SWEEP_FIGURES[over]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True)
    for axis, column, label in zip(axes, ("minority_recall", "balanced_accuracy"), ("minority recall", "balanced accuracy")):
        _method_lines(frame, over, column, styles, axis)
        axis.set_xscale("log")
        values = sorted(frame[over].unique())
        axis.set_xticks(values, [f"{value:g}" for value in values])
        axis.minorticks_off()
        axis.set_xlabel(axis_label)
        axis.set_ylabel(label)
    _legend(axes[-1], styles)
    figure.suptitle(title)
    return _save(figure, out, name)


# What the GAN training panels draw of each epoch's record, in this order and colour.
GAN_CURVES = {"d_loss": "D loss", "g_loss": "G loss", "d_real_accuracy": "D accuracy, real",
              "d_fake_accuracy": "D accuracy, fake", "guide_minority_rate": "fakes the guide calls the minority"}


def gan_training(results, out):
    """The paper's Fig 9 as small multiples: a panel per training (the pretraining, each GAN method's transfers), each
    on its own epoch axis, with G and D loss, D's accuracy on real and fake images and, for SMate+, the share of
    fakes its guide calls the minority: mean ± sd over the seeds' (and classes') trainings."""
    trainings = {}
    for path in sorted(Path(results).glob("gan/**/history.json")):
        record = json.loads(path.read_text())
        trainings.setdefault(path.relative_to(results).parts[1], []).append(pd.DataFrame(record["history"]))
    if not trainings:
        return None
    figure, axes = _panels(len(trainings), width=4.2, height=3.0, most_columns=4)
    colours = dict(zip(GAN_CURVES, sns.color_palette("colorblind", len(GAN_CURVES))))
    for axis, (name, frames) in zip(axes, trainings.items()):
        frame = pd.concat(frames)
        for curve, label in GAN_CURVES.items():
            if curve in frame and frame[curve].notna().any():
                _mean_band(axis, frame, "epoch", curve, label, colours[curve], clip=None, linewidth=1)
        axis.axhline(0.5, color="grey", linewidth=0.6, linestyle=":")
        axis.set_title(f"{name} ({len(frames)} training{'s' if len(frames) > 1 else ''})", fontsize=9)
        axis.set_xlabel("epoch", fontsize=8)
        axis.tick_params(labelsize=7)
    handles = {label: handle for axis in axes for handle, label in zip(*axis.get_legend_handles_labels())}
    figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
                  bbox_to_anchor=(0.5, -0.02))
    figure.suptitle("GAN training per epoch, a panel per training (mean ± sd over seeds and classes)")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    return _save(figure, out, "fig9_gan_training")


def pretraining_curves(results):
    """{pretraining seed: its quality.json} of the majority pretrainings scored along the way."""
    curves = {}
    for path in sorted(Path(results).glob("gan/pretrained/**/quality.json")):
        record = json.loads(path.read_text())
        curves[record["seed"]] = record
    return curves


def pretraining_quality(curves, out):
    """Not in the paper: the majority pretraining's quality against its minutes (FD and recall against held-out
    majority images, and the collapse signal: samples' mean pairwise SSIM beside the real images'), a line per seed
    of `curves` (pretraining_curves')."""
    if not curves:
        return None
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for seed, record in curves.items():
        frame = pd.DataFrame(record["curve"])
        for axis, column in zip(axes, ("frechet_distance", "recall", "sample_ssim")):
            axis.plot(frame["minutes"], frame[column], marker="o", markersize=3, label=f"seed {seed}")
        axes[2].axhline(record["real_ssim"], color="grey", linestyle="--", linewidth=0.8)
    for axis, title in zip(axes, ("Fréchet distance (lower is better)", "recall (higher is better)",
                                  "samples' mean pairwise SSIM (dashed: real)")):
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("minutes of pretraining", fontsize=8)
        axis.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, frameon=False)
    figure.suptitle("The majority pretraining's quality as it trains (feature net's features, held-out majority images)")
    figure.tight_layout()
    return _save(figure, out, "pretraining_quality")


def image_grid(images, out, name, title):
    """The paper's Fig 7: up to 64 uint8 NHWC images tiled 8 to a row, drawn as one image
    (64 axes of their own took 1.5 s a figure)."""
    images = images[:64]
    if len(images) == 0:
        return None
    return tiled_figure(tile(images), out, name, title)


def tile(images, per_row=8, padding=2, fill=255):
    """NHWC uint8 images as one RGB image, laid out as torchvision's make_grid lays them (a test holds the two
    equal). Ours in numpy: importing torchvision for this took 2.7 s of every report process, a DVC stage."""
    if len(images) == 1:
        return np.repeat(images[0], 3 // images.shape[-1], axis=-1)  # make_grid returns a lone image unpadded
    count, height, width, _ = images.shape
    columns = min(per_row, count)
    rows = math.ceil(count / columns)
    grid = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding, 3), fill, np.uint8)
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top:top + height, left:left + width] = image  # one channel broadcasts to three, as make_grid's
    return grid


def tiled_figure(tiles, out, name, title):
    """One already-tiled HWC uint8 image as a titled figure."""
    figure, axis = plt.subplots(figsize=(6, 6 * tiles.shape[0] / tiles.shape[1]))
    axis.imshow(tiles, interpolation="nearest")
    axis.axis("off")
    axis.set_title(title)
    return _save(figure, out, name, vector=False)


def last_grids(results):
    """{training: its last sample grid} of the majority pretraining and of each GAN method's generator of each class,
    those of the first seed where there are several: what the generators drew when their training ended."""
    gan = Path(results, "gan")
    grids = {}
    for folder in ["pretrained", *sorted(p.name for p in gan.iterdir() if p.is_dir() and p.name != "pretrained")]:
        trainings = sorted({path.parent.parent for path in (gan / folder).glob("**/samples/epoch_*.png")})
        # Results made before generator seeds hold their trainings right in the method's folder.
        seed_of = [next((part for part in t.relative_to(gan / folder).parts if part.startswith("seed-")), None)
                   for t in trainings]
        for training, seed in zip(trainings, seed_of):
            if seed == seed_of[0]:
                label = f"{folder} {training.name}" if training.parent.name == "generators" else folder
                grids[label] = layout.last_grid(training)
    return grids


def generator_grids(results, out):
    """Not in the paper: the pretrained generator's last grid beside each GAN method's minority generators', so that
    what the transfer kept of the pretraining, and what each method made of it, is seen at a glance (first seed)."""
    grids = last_grids(results)
    if not grids:
        return None
    figure, axes = _panels(len(grids), width=3.2, height=3.5, most_columns=4)
    for axis, (training, path) in zip(axes, grids.items()):
        with Image.open(path) as image:
            axis.imshow(np.asarray(image.convert("RGB")), interpolation="nearest")
        axis.set_title(f"{training}, epoch {int(path.stem.removeprefix('epoch_'))}", fontsize=9)
        axis.axis("off")
    figure.suptitle("Each generator's last samples: the majority pretraining and each method's minority generator")
    figure.tight_layout()
    return _save(figure, out, "generator_grids", vector=False)


def draw_runs(runs, out):
    """The figures drawn from one classifier regime's runs; returns the names drawn."""
    drawn = [accuracy_per_epoch(runs, out), minority_per_epoch(runs, out), confusion_matrices(runs, out),
             recall_vs_accuracy(runs, out)]
    return [name for name in drawn if name]


def draw_generators(results, out, curves):
    """The GAN figures: training curves, the pretraining's quality `curves` (pretraining_curves'), augmented and
    generated minority images; returns the names drawn."""
    drawn = [gan_training(results, out), pretraining_quality(curves, out), generator_grids(results, out)]
    # Trainings sit in seed-G/ folders, or in results made before generator seeds, right in the method's folder.
    augmented = sorted(Path(results).glob("gan/smate/**/generators/*/augmented.npy"))
    if augmented:
        drawn.append(image_grid(np.load(augmented[0]), out, "fig7_augmented_minority", "Augmented minority images"))
    # The synthesize stage's 64-image preview: the images array itself is too large to commit with results.
    previews = sorted(Path(results).glob("gan/smate/**/synthetic.png"))
    if previews:
        with Image.open(previews[0]) as image:
            tiles = np.asarray(image.convert("RGB"))
        drawn.append(tiled_figure(tiles, out, "fig12_generated_minority", "SMate's generated minority images"))
    return [name for name in drawn if name]
