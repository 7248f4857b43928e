"""Every model and method at other image sizes and channel counts, end to end on small sets the tests write,
and the one-line refusals of sizes a model cannot take."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from smate.classify import CLASSIFIERS
from smate.classify._keras_cnn import KerasCNN
from smate.cli import main
from smate.errors import SmateError
from smate.gan import build_gan, freeze_first, sample
from smate.gan.models import BrownleeGenerator, transfer_freeze, upsampling_blocks
from smate.classify.metrics import classification_metrics
from smate.rebalance import make_rebalancer
from smate.report.records import PAPER_REFERENCE


def _write_gray_classes(root, side, per_class=(24, 24, 8), size=None):
    """Class folders of grayscale images whose classes differ in brightness, so that a classifier can learn them."""
    rng = np.random.default_rng(0)
    height, width = size or (side, side)
    for cls, count in enumerate(per_class):
        (root / f"c{cls}").mkdir(parents=True)
        for i in range(count):
            pixels = np.clip(rng.normal(60 + 70 * cls, 25, (height, width)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / f"c{cls}" / f"{i:03d}.png")
    return root


@pytest.mark.parametrize("shape, blocks", [((32, 32), 3), ((64, 64), 4), ((16, 16), 2), ((8, 8), 1), ((28, 28), 2),
                                           ((64, 48), 3)])
@pytest.mark.parametrize("architecture", ["brownlee", "dcgan_sn", "sngan_cnn"])
@pytest.mark.parametrize("channels", [1, 3])
def test_generators_grow_to_the_image_size(shape, blocks, architecture, channels):
    assert upsampling_blocks(shape) == blocks
    generator, discriminator = build_gan({"architecture": architecture}, channels, shape)
    images = generator(torch.randn(2, generator.latent_dim))
    assert images.shape == (2, channels, *shape)
    assert discriminator(images).shape == (2, 1)
    assert sample(generator, 0, seed=0).shape == (0, *shape, channels)


def test_the_paper_generator_is_unchanged_at_32():
    assert sum(p.numel() for p in BrownleeGenerator(image_shape=(32, 32)).parameters()) == 1_466_115
    assert transfer_freeze(6, (32, 32)) == 6


@pytest.mark.parametrize("architecture", ["dcgan_sn", "sngan_cnn"])
@pytest.mark.parametrize("shape", [(8, 8), (16, 16), (64, 64)])
def test_freeze_leaves_the_last_two_conv_layers_trainable_at_every_size(shape, architecture):
    generator, _ = build_gan({"architecture": architecture}, 1, shape)
    freeze_first(generator, transfer_freeze(6, shape))
    trainable = [m for m in generator if any(p.requires_grad for p in m.parameters(recurse=False))]
    convs = [m for m in trainable if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert [type(m) for m in convs] == [torch.nn.ConvTranspose2d, torch.nn.Conv2d]
    assert not any(isinstance(m, torch.nn.Linear) for m in trainable)


def test_a_size_the_generators_cannot_reach_is_refused_in_one_line():
    with pytest.raises(SmateError, match="data.image_size"):
        upsampling_blocks((7, 7))


def test_keras_cnn_takes_non_square_images():
    assert KerasCNN(3, 1, (12, 20))(torch.zeros(2, 1, 12, 20)).shape == (2, 3)


@pytest.mark.parametrize("model, side", [("keras_cnn", 10), ("fast", 9)])
def test_each_classifier_states_the_smallest_side_it_takes(model, side):
    from smate.config import defaults

    recipe = CLASSIFIERS[model](defaults()["classify"][model], 3)
    assert recipe.min_side() == side
    x = torch.zeros(2, 1, side, side)
    assert recipe.build(x)(x).shape == (2, 3)


def _run(tmp_path, root, *overrides):
    return main(["run", "--preset", "tiny", "--set", f"data.root={root}", "--set", "data.minority=c2",
                 "--set", "data.ratio=1", "--set", "seeds=0", "--quiet", "--workers", "1", "--out", str(tmp_path / "out"),
                 "--reference", str(PAPER_REFERENCE), *[item for o in overrides for item in ("--set", o)]])


def test_a_size_the_classifier_cannot_take_stops_before_any_training(tmp_path, capsys):
    root = _write_gray_classes(tmp_path / "data", 8)
    assert _run(tmp_path, root, "classify.model=keras_cnn", "methods=imbalanced") == 2
    error = capsys.readouterr().err.strip()
    assert "data.image_size" in error and "8x8" in error and len(error.splitlines()) == 1
    assert not (tmp_path / "out" / "runs").exists()


@pytest.mark.parametrize("side, size", [(16, None), (8, "16"), (20, "16x24")])
def test_grayscale_folders_run_end_to_end_with_a_generator_method(tmp_path, side, size):
    root = _write_gray_classes(tmp_path / "data", side)
    sized = [] if size is None else [f"data.image_size={size}"]
    assert _run(tmp_path, root, "methods=imbalanced,smote,smate", "classify.fast.epochs=2", "gan.pretrain.epochs=1",
                "gan.transfer.epochs=1", "gan.transfer.augment_to=16", *sized) == 0
    out = tmp_path / "out"
    shape = json.loads((out / "prepared" / "dataset.json").read_text())["image_shape"]
    height, width = (16, 24) if size == "16x24" else (16, 16)
    assert shape == [height, width, 1]
    with np.load(next((out / "gan").glob("smate/**/synthetic.npz"), None) or next(out.glob("**/synthetic.npz"))) as made:
        assert made["images"].shape[1:] == (height, width, 1)
    record = json.loads((out / "runs" / "smate-0" / "metrics.json").read_text())
    assert 0 <= record["macro_f1"] <= 1 and 0 <= record["minority_average_precision"] <= 1
    report = (out / "report" / "report.md").read_text()
    assert "Recall on each class" in report


def test_a_natural_binary_imbalance_leads_with_balanced_accuracy_and_shows_average_precision(tmp_path):
    root = _write_gray_classes(tmp_path / "data", 16, per_class=(40, 6))
    assert main(["run", "--preset", "tiny", "--set", f"data.root={root}", "--set", "data.minority=auto",
                 "--set", "data.profile=as_is", "--set", "data.test_fraction=0.5", "--set", "seeds=0",
                 "--set", "methods=imbalanced,oversample", "--set", "classify.fast.epochs=2", "--quiet", "--workers", "1",
                 "--out", str(tmp_path / "out"), "--reference", str(PAPER_REFERENCE)]) == 0
    header = next(line for line in (tmp_path / "out" / "report" / "report.md").read_text().splitlines()
                  if line.startswith("| method") and "balanced acc." in line)
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns[2:4] == ["balanced acc.", "macro F1"]
    assert "minority precision" in columns and "minority AP" in columns


def test_average_precision_ranks_by_score_not_by_label():
    y_true = np.array([0, 0, 0, 1, 1])
    y_pred = np.array([0, 0, 0, 0, 0])  # every label wrong for the minority, yet the scores rank it first
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.55, 0.45]])
    metrics = classification_metrics(y_true, y_pred, ["a", "b"], [1], scores)
    assert metrics["minority_recall"] == 0 and metrics["minority_average_precision"] == 1.0
    assert metrics["macro_f1"] == pytest.approx((0.75 + 0) / 2)  # class a: precision 3/5, recall 1


def test_adasyn_leaves_a_class_it_cannot_weight_and_grows_the_rest():
    rng = np.random.default_rng(0)
    # Class 0 (full) and class 1 (one short of full) lie far apart; class 2, small, overlaps class 0.
    centres = {0: 20, 1: 230, 2: 22}
    counts = {0: 30, 1: 29, 2: 6}
    X = np.concatenate([np.clip(rng.normal(centres[c], 4, (n, 4, 4, 1)), 0, 255) for c, n in counts.items()])
    y = np.concatenate([np.full(n, c) for c, n in counts.items()])
    images, labels = make_rebalancer("adasyn", {"n_neighbors": 3}).fit_resample(X.astype(np.uint8), y)
    grown = np.bincount(labels)
    assert grown[1] == 29 and grown[2] > 6


def test_example_digits_are_written_as_class_folders(tmp_path):
    assert main(["example-data", "digits", "--to", str(tmp_path / "digits")]) == 0
    folders = sorted(p.name for p in (tmp_path / "digits").iterdir())
    assert len(folders) == 10 and "eight" in folders
    assert sum(len(list((tmp_path / "digits" / f).iterdir())) for f in folders) == 1797
    with Image.open(next((tmp_path / "digits" / "eight").iterdir())) as image:
        assert image.mode == "L" and image.size == (8, 8)
    assert main(["example-data", "digits", "--to", str(tmp_path / "digits")]) == 2


def test_smote_states_its_memory_and_refuses_what_would_not_fit(capsys):
    from smate.rebalance.synthetic import check_memory, memory_needed

    X = np.zeros((110, 8, 8, 3), np.uint8)
    y = np.array([0] * 100 + [1] * 10)
    assert memory_needed(X, y) == 110 * 192 * 4 + 200 * 192 * 5
    check_memory("smote", X, y, available=10**9)
    assert "smote: about" in capsys.readouterr().out
    with pytest.raises(SmateError, match="would need about .* GiB free|data.image_size"):
        check_memory("smote", X, y, available=1000)


def test_images_far_past_what_the_device_trains_quickly_get_one_line_with_the_measured_time(tmp_path, capsys):
    root = _write_gray_classes(tmp_path / "data", 96, per_class=(12, 12, 12))
    # 96x96 is 2.25x the pixels of 64x64: past a bound of 2x it here, so the test stays small.
    import smate.pipeline.shape_checks as checks
    bound = dict(checks.SLOW_PIXELS)
    checks.SLOW_PIXELS["cpu"] = 2 * 64 * 64
    try:
        assert _run(tmp_path, root, "methods=imbalanced", "classify.fast.epochs=1") == 0
    finally:
        checks.SLOW_PIXELS.update(bound)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: the images are")]
    assert len(lines) == 1
    assert "96x96 (2x the pixels of 64x64)" in lines[0] and "images/s at that size on this cpu (measured now)" in lines[0]
    assert "so 1 run of 1 epoch on 28 images takes about" in lines[0] and "--set data.image_size=64" in lines[0]


def test_small_images_train_with_no_size_warning(tmp_path, capsys):
    import smate.pipeline.shape_checks as checks

    assert checks.warn_if_slow({"classify": {"device": "cpu"}}, (64, 64, 3), 2, 100, 3) is None
    assert capsys.readouterr().out == ""
