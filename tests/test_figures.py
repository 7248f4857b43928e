"""The charts of many methods: a colour per family, a marker per method, and no two methods drawn alike."""

import zlib

import matplotlib.pyplot as plt
import numpy as np
import pytest

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
    """For every figure saved, by name: its legend's method entries (label, look) and each axis's marked points."""
    seen, save = {}, figures._save

    def keep(figure, out, name):
        legend = [(handle.get_label().strip(), _look(handle)) for axis in figure.axes if axis.get_legend()
                  for handle in axis.get_legend().legend_handles if hasattr(handle, "get_marker")]
        # Errorbar caps are drawn as lines with the markers "|" and "_".
        points = [[_look(line) for line in axis.lines if line.get_marker() not in ("", "None", None, "|", "_")]
                  for axis in figure.axes]
        seen[name] = legend, points
        return save(figure, out, name)

    monkeypatch.setattr(figures, "_save", keep)
    return seen


@pytest.mark.parametrize("methods", [FEW, MANY], ids=["2 methods", f"{len(MANY)} methods"])
def test_each_chart_of_many_methods_draws_no_two_alike(methods, drawn, tmp_path):
    runs = [run(method, seed) for method in methods for seed in range(3)]
    assert figures.minority_per_epoch(runs, tmp_path) and figures.recall_vs_accuracy(runs, tmp_path)
    sweep = [{**r, "ratio": ratio} for ratio in (0.01, 0.1) for r in runs]
    assert figures.ratio_sweep(sweep, methods, tmp_path)
    for name in ("fig10_minority_per_epoch", "recall_vs_accuracy", "ratio_sweep"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
        legend, _ = drawn[name]
        assert sorted(label for label, _ in legend) == sorted(methods), name
        assert len({look for _, look in legend}) == len(methods), name
    assert len(set(drawn["recall_vs_accuracy"][1][0])) == len(methods)
    rows = forest_rows(by_method(runs))
    assert {row["method"] for row in rows} == set(methods) - {"imbalanced"}
    assert figures.forest_plot(rows, "imbalanced", tmp_path) == "forest"
    for points in drawn["forest"][1]:  # a panel per metric, a point per method but the reference
        assert len(points) == len(set(points)) == len(methods) - 1


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
