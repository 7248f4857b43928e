"""The charts of many methods: a colour per family, a marker per method, and no two methods drawn alike."""

import itertools
import json
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from smate.report import figures
from smate.report.styles import COLOURS, method_styles
from smate.rebalance import REBALANCERS, family_of
from smate.report.forest import forest_rows
from smate.report.records import by_method

# Every registered method (25 as of this test) and, past the registry, names a user's method might have.
MANY = [*REBALANCERS, *(f"user_method_{k}" for k in range(max(0, 25 - len(REBALANCERS))))]
FEW = ["imbalanced", "smote"]


def run(method, seed):
    rng = np.random.default_rng([zlib.crc32(method.encode()), seed])
    accuracy, recall = rng.uniform(0.5, 0.8), rng.uniform(0.1, 0.9)
    return {"method": method, "seed": seed, "accuracy": accuracy, "balanced_accuracy": accuracy, "minority_recall": recall,
            "history": [{"epoch": e, "train_accuracy": accuracy, "test_accuracy": accuracy, "minority_recall": recall}
                        for e in (1, 2, 3)], "params": {"methods": []}}


def _look(line):
    colour = line.get_color()
    return colour if isinstance(colour, str) else tuple(colour[:3]), line.get_marker()


@pytest.fixture
def drawn(monkeypatch):
    """For every figure saved, by name: each panel's legend entries (label, look) and each panel's marked points;
    and the labels that overlap or leave their frame (label_faults)."""
    seen, save = {}, figures._save

    def keep(figure, out, name):
        legends = [[(handle.get_label().strip(), _look(handle)) for handle in axis.get_legend().legend_handles
                    if hasattr(handle, "get_marker")] for axis in figure.axes if axis.get_legend()]
        # Errorbar caps are drawn as lines with the markers "|" and "_".
        points = [[_look(line) for line in axis.lines if line.get_marker() not in ("", "None", None, "|", "_")]
                  for axis in figure.axes]
        seen[name] = legends, points, label_faults(figure)
        return save(figure, out, name)

    monkeypatch.setattr(figures, "_save", keep)
    return seen


def label_faults(figure):
    """Every pair of drawn texts whose boxes overlap (titles, axis and tick labels, legends, point labels), and every
    point label that leaves its panel's frame, as the figure renders."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [(text.get_text(), text.get_window_extent(renderer).expanded(0.98, 0.9)) for text in _drawn_texts(figure)]
    faults = [f"{a!r} overlaps {b!r}" for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]
    for axis in figure.axes:
        frame = axis.get_window_extent(renderer)
        # A label placed at a data point must stay in the frame; notes placed in the margin (axes fraction) may not.
        for text in (text for text in axis.texts if getattr(text, "xycoords", "data") == "data"
                     and text.get_transform() == axis.transData):
            box = text.get_window_extent(renderer)
            if not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1):
                faults.append(f"{text.get_text()!r} leaves its frame")
    return faults


def _drawn_texts(figure):
    texts = [*figure.texts] + [text for legend in figure.legends for text in legend.get_texts()]
    for axis in figure.axes:
        if not axis.get_visible():
            continue
        texts += [axis.title, axis.xaxis.label, axis.yaxis.label, *axis.texts]
        texts += axis.get_legend().get_texts() if axis.get_legend() else []
        for ticks, (low, high) in ((axis.xaxis.get_major_ticks(), sorted(axis.get_xlim())),
                                   (axis.yaxis.get_major_ticks(), sorted(axis.get_ylim()))):
            # Ticks past the limits keep label objects that are never drawn.
            texts += [tick.label1 for tick in ticks if low <= tick.get_loc() <= high and tick.label1.get_visible()]
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


@pytest.mark.parametrize("methods", [FEW, MANY], ids=["2 methods", f"{len(MANY)} methods"])
def test_each_chart_of_many_methods_draws_no_two_alike(methods, drawn, tmp_path):
    runs = [run(method, seed) for method in methods for seed in range(3)]
    assert figures.minority_per_epoch(runs, tmp_path) and figures.recall_vs_accuracy(runs, tmp_path)
    sweep = [{**r, "ratio": ratio} for ratio in (0.01, 0.1) for r in runs]
    assert figures.sweep_figure(sweep, methods, tmp_path, "ratio", "minority ratio")
    for name in ("recall_vs_accuracy", "ratio_sweep"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
        [legend], _, _ = drawn[name]
        assert sorted(label for label, _ in legend) == sorted(methods), name
        assert len({look for _, look in legend}) == len(methods), name
    assert len(set(drawn["recall_vs_accuracy"][1][0])) == len(methods)
    # The per-epoch figure: a panel per family, each method in its family's panel, told apart within it.
    legends, _, _ = drawn["fig10_minority_per_epoch"]
    families = {family_of(method) for method in methods}
    assert len(legends) == len(families)
    named = [label for legend in legends for label, _ in legend if label != "imbalanced"]
    assert sorted(named) == sorted(set(methods) - {"imbalanced"})
    for legend in legends:
        looks = [look for label, look in legend]
        assert len(set(looks)) == len(looks)
    rows = forest_rows(by_method(runs))
    assert {row["method"] for row in rows} == set(methods) - {"imbalanced"}
    assert figures.forest_plot(rows, "imbalanced", tmp_path) == "forest"
    for points in drawn["forest"][1]:  # a panel per metric, a point per method but the reference
        assert len(points) == len(set(points)) == len(methods) - 1


def _gan_histories(folder, trainings):
    """history.json files as the GAN stages leave them: {name under gan/: epochs}, three seeds each."""
    for name, epochs in trainings.items():
        for seed in range(3):
            path = folder / "gan" / name / f"seed-{seed}" / ("history.json" if name == "pretrained" else "generators/truck/history.json")
            path.parent.mkdir(parents=True)
            rng = np.random.default_rng(seed)
            history = [{"epoch": e, "d_loss": 1 + rng.normal(0, 0.1), "g_loss": 2 + rng.normal(0, 0.1), "d_real_accuracy": 0.6,
                        "d_fake_accuracy": 0.7, "sample_ssim": 0.2, "seconds": 1.0, "images_per_second": 100.0,
                        **({"guide_minority_rate": 0.5} if name == "smate_plus" else {})} for e in range(1, epochs + 1)]
            path.write_text(json.dumps({"label": f"{name} seed {seed}", "n_images": 100, "history": history}))


def test_every_figure_at_25_methods_keeps_its_labels_apart_and_inside_their_frames(drawn, tmp_path):
    runs = [run(method, seed) for method in MANY for seed in range(3)]
    # SAMME's rounds run five times the epochs of the others.
    runs = [{**r, "history": [{**r["history"][0], "epoch": e} for e in range(1, 126)]} if r["method"] == "samme" else r
            for r in runs]
    assert figures.minority_per_epoch(runs, tmp_path) and figures.recall_vs_accuracy(runs, tmp_path)
    assert figures.forest_plot(forest_rows(by_method(runs)), "imbalanced", tmp_path)
    generators = [method for method in MANY if method in REBALANCERS and REBALANCERS[method].kind == "generator"]
    _gan_histories(tmp_path / "results", {"pretrained": 500, **{method: 30 for method in generators}})
    assert figures.gan_training(tmp_path / "results", tmp_path)
    for name in ("fig10_minority_per_epoch", "recall_vs_accuracy", "forest", "fig9_gan_training"):
        assert drawn[name][2] == [], name
    _, points, _ = drawn["fig9_gan_training"]
    assert len(points) >= len(generators) + 1  # a panel per training


def test_methods_whose_runs_coincide_are_one_point_with_both_names(drawn, tmp_path):
    runs = [run(method, seed) for method in ("imbalanced", "logit_adjust", "smote") for seed in range(3)]
    twins = [{**r, "method": "balanced_softmax"} for r in runs if r["method"] == "logit_adjust"]
    assert figures.recall_vs_accuracy(runs + twins, tmp_path)
    _, points, faults = drawn["recall_vs_accuracy"]
    assert len(points[0]) == 3 and faults == []
    assert "logit_adjust = balanced_softmax" in (tmp_path / "recall_vs_accuracy.svg").read_text()


def test_a_family_shares_one_colour_and_its_methods_differ_in_marker():
    styles = method_styles(REBALANCERS)
    for family in {style.family for style in styles.values()}:
        mine = [style for style in styles.values() if style.family == family]
        assert {style.colour for style in mine} == {tuple(COLOURS[family])}
        assert len({style.marker for style in mine}) == len(mine)
    assert family_of("smate") == "generators" and family_of("crt") == "decoupled" and family_of("mine") == "other"
    assert len(set(COLOURS.values())) == len(COLOURS)


def test_a_family_past_its_markers_turns_darker_instead_of_repeating_a_look():
    styles = method_styles([f"user_method_{k}" for k in range(30)])
    assert len({(style.colour, style.marker) for style in styles.values()}) == 30


def test_the_forest_rows_hold_the_paired_differences_and_their_corrected_verdicts():
    recall = {"imbalanced": [0.30, 0.32, 0.28, 0.31], "smote": [0.42, 0.41, 0.40, 0.43], "oversample": [0.33, 0.29, 0.30, 0.30]}
    balanced = {"imbalanced": [0.60, 0.61, 0.59, 0.60], "smote": [0.55, 0.57, 0.54, 0.56], "oversample": [0.61, 0.60, 0.59, 0.605]}
    runs = [{**run(method, seed), "minority_recall": recall[method][seed], "balanced_accuracy": balanced[method][seed]}
            for method in recall for seed in range(4)]
    rows = {(row["method"], row["metric"]): row for row in forest_rows(by_method(runs))}
    smote = rows["smote", "minority_recall"]
    assert smote["difference"] == pytest.approx(0.1125) and smote["n"] == 4 and smote["half_width"] > 0
    assert smote["verdict"] == "holds"
    assert rows["smote", "balanced_accuracy"]["verdict"] == "does not hold"
    assert rows["oversample", "minority_recall"]["verdict"] == "not significant"
    assert rows["oversample", "balanced_accuracy"]["verdict"] == "not significant"
    assert forest_rows(by_method([r for r in runs if r["method"] != "imbalanced"])) == []
    plt.close("all")


@pytest.mark.parametrize("count", [1, 5, 8, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_image_tiling_lays_images_out_as_torchvisions_make_grid(count, channels):
    import torch
    from torchvision.utils import make_grid

    images = np.random.default_rng(count).integers(0, 256, (count, 6, 5, channels), dtype=np.uint8)
    expected = make_grid(torch.from_numpy(images).permute(0, 3, 1, 2), nrow=8, padding=2, pad_value=255)
    np.testing.assert_array_equal(figures.tile(images), expected.permute(1, 2, 0).numpy())


def _grid(path, shade):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((34, 34, 3), shade, dtype=np.uint8)).save(path)


def test_the_generator_grids_are_each_trainings_last_of_the_first_seed_pretraining_first(tmp_path):
    gan = tmp_path / "gan"
    for seed in (0, 1):
        for epoch in (5, 10):
            _grid(gan / "pretrained" / f"seed-{seed}" / "samples" / f"epoch_{epoch:04d}.png", 10 * epoch + seed)
            for name in ("truck", "ship"):
                _grid(gan / "smate" / f"seed-{seed}" / "generators" / name / "samples" / f"epoch_{epoch:04d}.png", epoch)
    # Results made before generator seeds: the trainings right in the method's folder.
    _grid(gan / "cgan" / "generators" / "all" / "samples" / "epoch_0030.png", 200)
    grids = figures.last_grids(tmp_path)
    assert {label: path.relative_to(gan).as_posix() for label, path in grids.items()} == {
        "pretrained": "pretrained/seed-0/samples/epoch_0010.png",
        "cgan all": "cgan/generators/all/samples/epoch_0030.png",
        "smate ship": "smate/seed-0/generators/ship/samples/epoch_0010.png",
        "smate truck": "smate/seed-0/generators/truck/samples/epoch_0010.png"}
    assert figures.generator_grids(tmp_path, tmp_path / "figures") == "generator_grids"
    assert (tmp_path / "figures" / "generator_grids.png").is_file()
