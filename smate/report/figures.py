"""The paper's figures (and one it lacks), drawn with seaborn from results files alone, as PNG and SVG."""

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
import numpy as np
import pandas as pd
import seaborn as sns
from PIL import Image

from .. import atomic
from .styles import COLOURS, by_family, markers, method_styles, palette

# A fixed SVG hash salt and no dates keep reruns byte-identical.
plt.rcParams["svg.hashsalt"] = "smate-bench"
METADATA = {"svg": {"Date": None}, "png": {}}


def _save(figure, out, name):
    for kind in ("png", "svg"):
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


def minority_per_epoch(runs, out):
    """The paper's Fig 10: minority recall and test accuracy per epoch, every method."""
    frame = _history_frame(runs)
    if frame.empty:
        return None
    styles = method_styles(_order(runs))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, column in zip(axes, ("minority_recall", "test_accuracy")):
        _method_lines(frame, "epoch", column, styles, axis, markevery=max(1, frame["epoch"].nunique() // 6))
        axis.set_title(f"{column.replace('_', ' ')} per epoch")
    _legend(axes[-1], styles)
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
    """Not in the paper: minority recall against accuracy for every method, mean ± sd over seeds, each point named."""
    frame = pd.DataFrame([{"method": r["method"], "accuracy": r["accuracy"], "minority_recall": r["minority_recall"]}
                          for r in runs])
    stats = frame.groupby("method", sort=False).agg(["mean", "std"])
    styles = method_styles(_order(runs))
    figure, axis = plt.subplots(figsize=(7, 5.5))
    for method, style in styles.items():
        row = stats.loc[method]
        x, y = row[("accuracy", "mean")], row[("minority_recall", "mean")]
        axis.errorbar(x, y, xerr=row[("accuracy", "std")], yerr=row[("minority_recall", "std")], fmt=style.marker,
                      color=style.colour, capsize=3, alpha=0.9)
        axis.annotate(method, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6, color=style.colour)
    axis.set_xlabel("test accuracy")
    axis.set_ylabel("minority recall")
    _legend(axis, styles)
    axis.set_title("Minority recall vs accuracy (mean ± sd over seeds)")
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


def ratio_sweep(rows, methods, out):
    """Not in the paper: minority recall and balanced accuracy against the minority ratio, a line per method
    with a band of ± one sd over seeds."""
    frame = pd.DataFrame(rows)
    styles = method_styles(by_family(methods))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharex=True)
    for axis, column, label in zip(axes, ("minority_recall", "balanced_accuracy"), ("minority recall", "balanced accuracy")):
        _method_lines(frame, "ratio", column, styles, axis)
        axis.set_xscale("log")
        ratios = sorted(frame["ratio"].unique())
        axis.set_xticks(ratios, [f"{ratio:g}" for ratio in ratios])
        axis.minorticks_off()
        axis.set_xlabel("minority ratio (share of the minority's train images kept)")
        axis.set_ylabel(label)
    _legend(axes[-1], styles)
    figure.suptitle("Each method as the imbalance grows (mean ± sd over seeds)")
    return _save(figure, out, "ratio_sweep")


def gan_training(results, out):
    """The paper's Fig 9: G and D loss and D's accuracy on real and fake images per epoch, per generator,
    and for SMate+'s generators the share of their fakes the guide classifier calls the minority."""
    frames = []
    for path in sorted(Path(results).glob("gan/**/history.json")):
        record = json.loads(path.read_text())
        frames.append(pd.DataFrame(record["history"]).assign(generator=record["label"]))
    if not frames:
        return None
    frame = pd.concat(frames)
    guided = "guide_minority_rate" in frame
    figure, axes = plt.subplots(1, 3 if guided else 2, figsize=(18 if guided else 12, 4))
    losses = frame.melt(id_vars=["generator", "epoch"], value_vars=["d_loss", "g_loss"], var_name="loss")
    sns.lineplot(losses, x="epoch", y="value", hue="generator", style="loss", ax=axes[0], legend=False)
    axes[0].set_title("D and G loss (solid: D, dashed: G)")
    if guided:
        rates = frame.dropna(subset=["guide_minority_rate"])
        # Every generator in the hue order, so that SMate+'s colour matches the other panels'.
        sns.lineplot(rates, x="epoch", y="guide_minority_rate", hue="generator", hue_order=list(frame["generator"].unique()),
                     ax=axes[1], legend=False)
        axes[1].set_title("Fakes the guide classifier calls the minority")
    accuracy = frame.melt(id_vars=["generator", "epoch"], value_vars=["d_real_accuracy", "d_fake_accuracy"],
                          var_name="images")
    sns.lineplot(accuracy, x="epoch", y="value", hue="generator", style="images", ax=axes[-1])
    axes[-1].axhline(0.5, color="grey", linewidth=0.8)
    axes[-1].set_title("D accuracy on real and fake images")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    return _save(figure, out, "fig9_gan_training")


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
    return _save(figure, out, name)


def draw_runs(runs, out):
    """The figures drawn from one classifier regime's runs; returns the names drawn."""
    drawn = [accuracy_per_epoch(runs, out), minority_per_epoch(runs, out), confusion_matrices(runs, out),
             recall_vs_accuracy(runs, out)]
    return [name for name in drawn if name]


def draw_generators(results, out):
    """The GAN figures: training curves, augmented and generated minority images; returns the names drawn."""
    drawn = [gan_training(results, out)]
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
