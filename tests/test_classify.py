import numpy as np
import pytest
import torch
import torch.nn.functional as F

from smate.classify import CLASSIFIERS, train_classifier
from smate.classify._fast import FastNet
from smate.classify._keras_cnn import KerasCNN
from smate.config import build_config
from smate.classify.objectives import NormedLinear, Objective, use_cosine_classifier

COLOURS = np.array([[220, 40, 40], [40, 220, 40], [40, 40, 220], [220, 220, 40]])


def colour_task(per_class, seed):
    """Four classes told apart by colour under heavy noise: a net that learns at all gets it right."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(COLOURS)), per_class)
    noise = rng.normal(0, 50, (len(labels), 16, 16, 3))
    images = np.clip(COLOURS[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return images, labels


def recipe(name, **overrides):
    params = dict(build_config(preset="tiny")["classify"][name])
    params.update(overrides)
    return CLASSIFIERS[name](params, len(COLOURS))


@pytest.fixture(scope="module")
def task():
    return colour_task(60, seed=0) + colour_task(20, seed=1)


def train(name, task, seed=0, class_weight=None, bf16=False, objective=None, **overrides):
    train_x, train_y, test_x, test_y = task
    return train_classifier(recipe(name, **overrides), train_x, train_y, test_x, test_y, class_weight=class_weight,
                            objective=objective, minority_ids=[3], seed=seed, device="cpu", bf16=bf16)


# The authors' recipe at ten times their rate: at 1e-4 it needs more steps than a unit test takes.
AUTHORS = {"recipe": "authors", "lr": 1e-3, "flip": False, "translate": 0}


@pytest.mark.parametrize("name, overrides", [*((name, {}) for name in sorted(CLASSIFIERS)), ("keras_cnn", AUTHORS)],
                         ids=[*sorted(CLASSIFIERS), "keras_cnn-authors"])
def test_classifier_learns_and_records_history(name, overrides, task):
    # Eight epochs, or the tiny preset's own where it trains more: ResNet-18's 16 steps in 8 epochs learn three of
    # the four colours with seed 0 (all four with seed 1, and in bf16).
    epochs = max(8, build_config(preset="tiny")["classify"][name]["epochs"])
    result = train(name, task, epochs=epochs, **overrides)
    test_y = task[3]
    assert (result.predictions == test_y).mean() >= 0.9
    assert [h["epoch"] for h in result.history] == list(range(1, epochs + 1))
    for record in result.history:
        assert np.isfinite(record["train_loss"]) and 0 <= record["train_accuracy"] <= 1
        assert 0 <= record["test_accuracy"] <= 1 and 0 <= record["minority_recall"] <= 1
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.train_seconds > 0 and result.predict_seconds > 0


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_the_gpus_bf16_path_learns_too(name, task):
    """GPUs train in bf16 (storage and autocast); the CPU runs that path here so its dtypes are tested without one."""
    result = train(name, task, epochs=8, bf16=True)
    assert (result.predictions == task[3]).mean() >= 0.9
    assert all(np.isfinite(record["train_loss"]) for record in result.history)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_same_seed_repeats_exactly_on_the_cpu(name, task):
    first, second = train(name, task, seed=5, epochs=1), train(name, task, seed=5, epochs=1)
    np.testing.assert_array_equal(first.predictions, second.predictions)
    assert first.history == second.history


@pytest.mark.parametrize("name", ["keras_cnn", "resnet18"])
def test_our_recipes_anneal_their_rate_to_near_zero_and_record_it(name, task):
    """A run that ends with its rate still high stops mid-descent, and its ranking depends on when it stopped."""
    rates = [record["lr"] for record in train(name, task, epochs=5).history]
    assert rates[0] <= recipe(name).params["lr"] and rates == sorted(rates, reverse=True)
    assert rates[-1] < rates[0] / 10


def test_the_authors_keras_recipe_keeps_their_decay_in_the_history(task):
    rates = [record["lr"] for record in train("keras_cnn", task, epochs=3, **AUTHORS).history]
    assert rates[-1] == pytest.approx(AUTHORS["lr"], rel=1e-3) and rates[-1] < rates[0]


def test_fractional_epochs_stop_mid_epoch(task):
    result = train("fast", task, epochs=1.5)
    assert len(result.history) == 2


def test_class_weights_reach_the_loss(task):
    # Weight only class 0: every other class's images stop teaching, so class 0 takes over.
    result = train("keras_cnn", task, class_weight=[1.0, 0.0, 0.0, 0.0], epochs=3)
    assert (result.predictions == 0).mean() > 0.9


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_an_objective_replaces_the_loss_changes_the_model_and_reads_the_test_logits(name, task):
    seen = {"progress": [], "prepared": []}

    def loss(logits, labels, progress):
        seen["progress"].append(progress)
        return F.cross_entropy(logits, torch.zeros_like(labels), reduction="none")  # teaches class 0 only

    objective = Objective(loss=loss, prepare=lambda model: seen["prepared"].append(type(model).__name__))
    result = train(name, task, objective=objective, epochs=2)
    assert (result.predictions == 0).mean() > 0.9
    assert seen["prepared"] == [type(result.model).__name__]
    steps = result.history[-1]["step"]
    assert seen["progress"] == [step / steps for step in range(steps)]

    # Reading the logits as their negation turns the classifier's favourite into its last choice,
    # in the history's scoring as in the final predictions (the fast net's test-time augmentation and
    # final weight averaging off, so that the two score the same logits).
    same_model = {"tta": False, "lookahead": False} if name == "fast" else {}
    plain = train(name, task, epochs=2, **same_model)
    negated = train(name, task, objective=Objective(adjust=lambda logits: -logits), epochs=2, **same_model)
    assert (negated.predictions != plain.predictions).mean() > 0.9
    assert negated.history[-1]["test_accuracy"] == float((negated.predictions == task[3]).mean())


def test_the_cosine_classifier_swaps_each_nets_last_layer():
    for model in (FastNet(4, widths=(8, 8, 8)), KerasCNN(4, image_shape=(16, 16))):
        use_cosine_classifier(model)
        assert not any(isinstance(module, torch.nn.Linear) for module in list(model.modules())[-1:])
        assert isinstance(list(model.modules())[-1], NormedLinear)
        logits = model.eval()(torch.randn(3, 3, 16, 16))
        assert logits.shape == (3, 4) and logits.abs().max() <= 1 + 1e-5


def test_fast_net_whitening_decorrelates_patches():
    rng = np.random.default_rng(0)
    smooth = torch.tensor(rng.normal(size=(64, 3, 16, 16)), dtype=torch.float32).cumsum(-1).cumsum(-2)
    net = FastNet(10, widths=(8, 8, 8))
    net.init_whitening(smooth)
    with torch.no_grad():
        features = torch.nn.functional.conv2d(smooth, net.whiten.weight[:12])
    flat = features.permute(1, 0, 2, 3).reshape(12, -1)
    covariance = torch.cov(flat)
    np.testing.assert_allclose(covariance.numpy(), np.eye(12), atol=0.05)


@pytest.mark.parametrize("size", [32, 24])
def test_models_take_any_class_count_and_image_size(size):
    x = torch.randn(2, 3, size, size)
    assert FastNet(7, widths=(8, 16, 16))(x).shape == (2, 7)
    assert KerasCNN(7, image_shape=(size, size))(x).shape == (2, 7)


def test_keras_cnn_matches_the_keras_example_size():
    # keras/examples/cifar10_cnn.py reports 1,250,858 trainable parameters for 10 classes.
    assert sum(p.numel() for p in KerasCNN(10).parameters()) == 1_250_858


def _authors(**overrides):
    return recipe("keras_cnn", **{**AUTHORS, "lr": 1e-4, **overrides})


def test_the_authors_recipe_uses_rmsprop_with_keras_legacy_decay():
    model = _authors().build(torch.zeros(1, 3, 32, 32))
    authors = _authors(decay=1e-6)
    authors.configure(model, total_steps=10, steps_per_epoch=5)
    optimizer = authors.optimizer
    assert isinstance(optimizer, torch.optim.RMSprop)
    assert optimizer.defaults["alpha"] == 0.9 and optimizer.defaults["eps"] == 1e-7 and optimizer.defaults["momentum"] == 0
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)
    for step in range(1000):
        optimizer.step()  # no gradients: only the schedule moves
        authors.after_step(step)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-4 / (1 + 1e-6 * 1000), rel=1e-12)


def test_the_authors_recipe_starts_from_glorot_uniform_weights_and_zero_biases():
    torch.manual_seed(0)
    model = CLASSIFIERS["keras_cnn"](_authors().params, 10).build(torch.zeros(1, 3, 32, 32))
    assert sum(p.numel() for p in model.parameters()) == 1_250_858
    dense = model[-1]
    assert dense.weight.shape == (10, 512)
    bound = (6 / (512 + 10)) ** 0.5  # Glorot: sqrt(6 / (fan_in + fan_out))
    assert dense.weight.abs().max() <= bound and dense.weight.abs().max() > 0.9 * bound
    conv = model[0]
    conv_bound = (6 / (3 * 9 + 32 * 9)) ** 0.5
    assert conv.weight.abs().max() <= conv_bound and conv.weight.abs().max() > 0.9 * conv_bound
    assert all(not layer.bias.detach().any() for layer in model if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)))


def test_the_authors_recipe_divides_pixels_by_255_but_for_the_unscaled_sets_and_never_augments():
    pixels = torch.full((4, 8, 8, 3), 200.0)
    for method, scale in (("smote", 255.0), ("full", 1.0), (None, 255.0)):
        mean, std = CLASSIFIERS["keras_cnn"]({**_authors().params, "unscaled": ["full"]}, 4, method).normalization(pixels)
        assert mean.shape == std.shape == (1, 3, 1, 1)
        assert float(mean.abs().max()) == 0 and torch.all(std == scale)
    assert _authors().augmentation() == (False, 0)
    ours = recipe("keras_cnn")
    assert ours.augmentation() == (True, 2)
    assert torch.allclose(ours.normalization(pixels + torch.arange(3.0))[0].flatten(), torch.tensor([200.0, 201.0, 202.0]))


def test_no_augmentation_reaches_the_authors_train_batches(task, monkeypatch):
    from smate.classify import _trainer

    seen = []
    real = _trainer.ClassifierAugment
    monkeypatch.setattr(_trainer, "ClassifierAugment", lambda flip, translate: seen.append((flip, translate)) or real(flip, translate))
    train("keras_cnn", task, epochs=1, **AUTHORS)
    assert seen == [(False, 0)]


def test_the_paper_preset_trains_keras_cnn_as_the_authors_did():
    keras = build_config(preset="paper")["classify"]["keras_cnn"]
    assert keras["recipe"] == "authors" and keras["unscaled"] == ["full"]
    assert (keras["epochs"], keras["batch_size"], keras["lr"], keras["decay"]) == (100, 256, 1e-4, 1e-6)
    assert (keras["rho"], keras["epsilon"], keras["flip"], keras["translate"]) == (0.9, 1e-7, False, 0)


def test_eval_every_scores_those_epochs_and_the_last(task):
    train_x, train_y, test_x, test_y = task
    result = train_classifier(recipe("keras_cnn", epochs=7), train_x, train_y, test_x, test_y, minority_ids=[3],
                              device="cpu", bf16=False, eval_every=3)
    assert [h["epoch"] for h in result.history] == [3, 6, 7]
    every = train("keras_cnn", task, epochs=7)
    assert result.history[-1]["train_loss"] == every.history[-1]["train_loss"]  # scoring leaves training alone
    np.testing.assert_array_equal(result.predictions, every.predictions)


def test_a_steps_budget_fixes_the_optimizer_steps_whatever_the_set_size(task):
    train_x, train_y, test_x, test_y = task
    small = train_classifier(recipe("keras_cnn", epochs=2, batch_size=32), train_x[::4], train_y[::4], test_x, test_y,
                             device="cpu", bf16=False, total_steps=30)
    large = train_classifier(recipe("keras_cnn", epochs=2, batch_size=32), train_x, train_y, test_x, test_y,
                             device="cpu", bf16=False, total_steps=30)
    assert small.history[-1]["step"] == large.history[-1]["step"] == 30
    assert small.history[-1]["epoch"] == 15 and large.history[-1]["epoch"] == 4  # 60 and 240 images, batch 32
