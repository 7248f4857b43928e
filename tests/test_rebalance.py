"""One shared set of checks over every registered method, then each method's own contract."""

import inspect
import math
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from smate.errors import SmateError
from smate.rebalance import REBALANCERS, Rebalancer, make_rebalancer
from smate.rebalance._base import KINDS, Interval, OneOf

COUNTS = [40, 40, 40, 8]  # class 3 is the minority


@pytest.fixture(scope="module")
def imbalanced():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(COUNTS)), COUNTS)
    # Each class a slightly different mean colour, overlapping its neighbours' as real classes do (ADASYN needs that).
    images = (rng.integers(0, 120, (len(labels), 8, 8, 3)) + 4 * labels[:, None, None, None]).astype(np.uint8)
    return images, labels


def make(name, seed=0, **params):
    """A registered method, given GAN-made images (here random class-3 images) when it needs them."""
    method = make_rebalancer(name, params, seed=seed)
    if method.kind == "generator":
        rng = np.random.default_rng(99)
        method.use(rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8), np.full(40, 3))
    return method


def expected_counts(cls):
    """The class counts `fit_resample` returns, as the method declares them (Rebalancer.trained_counts); a
    decoupled method's images stay as given, what it adds are features."""
    declared = "as given" if cls.kind == "decoupled" else cls.trained_counts()
    return {"smallest": [min(COUNTS)] * len(COUNTS), "largest": [max(COUNTS)] * len(COUNTS)}.get(declared, COUNTS)


@pytest.mark.parametrize("name", sorted(REBALANCERS))
class TestEveryMethod:
    def test_shapes_dtype_and_labels(self, name, imbalanced):
        images, labels = imbalanced
        X, y = make(name).fit_resample(images, labels)
        assert X.dtype == np.uint8 and X.shape[1:] == images.shape[1:]
        assert len(X) == len(y) and set(np.unique(y)) == set(np.unique(labels))

    def test_class_counts(self, name, imbalanced):
        images, labels = imbalanced
        _, y = make(name, **({"k_neighbors": 3} if name == "smote" else {})).fit_resample(images, labels)
        counts = np.bincount(y).tolist()
        expected = expected_counts(REBALANCERS[name])
        if REBALANCERS[name].exact:
            assert counts == expected
        else:  # ADASYN balances only approximately: it allots samples by neighbourhood difficulty
            assert counts[:3] == expected[:3] and abs(counts[3] - expected[3]) <= 4

    def test_same_seed_same_output(self, name, imbalanced):
        images, labels = imbalanced
        first = make(name, seed=3).fit_resample(images, labels)
        second = make(name, seed=3).fit_resample(images, labels)
        np.testing.assert_array_equal(first[0], second[0])
        np.testing.assert_array_equal(first[1], second[1])

    def test_does_not_modify_its_input(self, name, imbalanced):
        images, labels = imbalanced
        before = images.copy()
        make(name).fit_resample(images, labels)
        np.testing.assert_array_equal(images, before)

    def test_is_a_documented_rebalancer_of_a_known_kind(self, name):
        cls = REBALANCERS[name]
        assert issubclass(cls, Rebalancer) and cls.__doc__ and cls.kind in KINDS
        assert hasattr(cls, "use") == (cls.kind == "generator")  # the GAN stages' images come through use()
        assert set(cls.constraints) <= set(inspect.signature(cls.__init__).parameters)

    def test_its_output_changes_with_the_seed_as_it_declares(self, name, imbalanced):
        images, labels = imbalanced
        first, _ = make(name, seed=0).fit_resample(images, labels)
        second, _ = make(name, seed=1).fit_resample(images, labels)
        changed = first.shape != second.shape or not np.array_equal(first, second)
        assert changed == REBALANCERS[name].random

    def test_each_constrained_parameter_refuses_a_value_outside_it_in_one_line(self, name):
        for parameter, allowed in REBALANCERS[name].constraints.items():
            for value in _outside(allowed):
                with pytest.raises(SmateError, match=f"rebalance.{name}.{parameter} must be {re.escape(str(allowed))}, "
                                                     f"got {re.escape(repr(value))}; e.g. --set rebalance.{name}.{parameter}="):
                    make_rebalancer(name, {parameter: value})


def _outside(allowed):
    """Values a constraint refuses: for OneOf a name not among its options, and the wrong type; for an Interval,
    the wrong type and one past each finite end."""
    if isinstance(allowed, OneOf):
        return ["not-an-option", 1]
    values = ["x", True] + ([1.5] if allowed.type is int else [])
    if allowed.low != -math.inf:
        values.append(allowed.low - 1)
    if allowed.high != math.inf:
        values.append(allowed.high + 1)
    return values


def test_an_interval_admits_its_ends_as_it_says():
    assert Interval(float, 0, 1, "left").admits(0) and not Interval(float, 0, 1, "left").admits(1)
    assert not Interval(float, 0, closed="neither").admits(0.0) and Interval(float, 0, closed="neither").admits(1e-9)
    assert Interval(int, 1).admits(1) and not Interval(int, 1).admits(1.0) and not Interval(int, 1).admits(False)
    assert str(Interval(int, 1)) == "an integer >= 1" and str(Interval(float, 0, 1, "left")) == "a number in [0, 1)"


def test_undersample_and_oversample_use_only_original_images(imbalanced):
    images, labels = imbalanced
    originals = {image.tobytes() for image in images}
    for name in ("undersample", "oversample"):
        X, _ = make_rebalancer(name, {}, seed=0).fit_resample(images, labels)
        assert {image.tobytes() for image in X} <= originals


def test_smote_images_lie_between_minority_images(imbalanced):
    images, labels = imbalanced
    X, y = make_rebalancer("smote", {"k_neighbors": 3}, seed=0).fit_resample(images, labels)
    synthetic = X[len(images):]
    assert (y[len(images):] == 3).all() and len(synthetic) == 32
    minority = images[labels == 3]
    # Interpolations stay inside the per-pixel range of the minority images (+-1 for rounding).
    assert (synthetic >= minority.min(axis=0).astype(int) - 1).all()
    assert (synthetic <= minority.max(axis=0).astype(int) + 1).all()
    assert not {image.tobytes() for image in synthetic} <= {image.tobytes() for image in minority}


def test_augment_oversample_keeps_originals_and_adds_new_minority_images(imbalanced):
    images, labels = imbalanced
    X, y = make_rebalancer("augment_oversample", {}, seed=0).fit_resample(images, labels)
    np.testing.assert_array_equal(X[: len(images)], images)
    added = X[len(images):]
    assert (y[len(images):] == 3).all() and len(added) == 32
    assert not {image.tobytes() for image in added} & {image.tobytes() for image in images}


def test_class_weight_is_inverse_frequency(imbalanced):
    images, labels = imbalanced
    method = make_rebalancer("class_weight", {}, seed=0)
    method.fit_resample(images, labels)
    total = sum(COUNTS)
    np.testing.assert_allclose(method.class_weight_, [total / (4 * c) for c in COUNTS])


def test_full_trains_on_the_whole_train_set_and_the_other_methods_on_the_imbalanced_one():
    task = SimpleNamespace(images="imbalanced images", labels="imbalanced labels", full_images="all images",
                           full_labels="all labels")
    assert make_rebalancer("full")._train_set(task) == ("all images", "all labels")
    # The generator methods add their images to the imbalanced set; the decoupled ones start from its run's network.
    others = [name for name, cls in REBALANCERS.items() if name != "full" and cls.kind not in ("generator", "decoupled")]
    assert others and all(make_rebalancer(name)._train_set(task) == ("imbalanced images", "imbalanced labels")
                          for name in others)


def test_smote_with_too_few_minority_images_says_what_to_change(imbalanced):
    images, labels = imbalanced
    with pytest.raises(SmateError, match="lower rebalance.smote.k_neighbors"):
        make_rebalancer("smote", {"k_neighbors": 20}, seed=0).fit_resample(images, labels)


def test_adasyn_without_other_classes_nearby_suggests_another_method():
    labels = np.repeat([0, 1], [20, 6])
    images = np.where(labels[:, None, None, None] == 1, 255, 0).astype(np.uint8) * np.ones((1, 4, 4, 3), np.uint8)
    with pytest.raises(SmateError, match="use another method for this dataset"):
        make_rebalancer("adasyn", {"n_neighbors": 3}, seed=0).fit_resample(images, labels)


def test_gan_methods_add_the_synthetic_images_they_are_given(imbalanced):
    images, labels = imbalanced
    method = make("smate")
    X, y = method.fit_resample(images, labels)
    np.testing.assert_array_equal(X[len(images):], method.synthetic[0][:32])
    assert REBALANCERS["smate"].pretrained and REBALANCERS["smate"].augmented
    assert not REBALANCERS["smate_noaug"].augmented and not REBALANCERS["gan_minority"].pretrained


def test_gan_methods_grow_only_the_classes_their_generators_drew_for():
    # A natural imbalance (the digits): majority classes of 10 and 9 images, the minority of 4 with its generator's 6.
    labels = np.repeat([0, 1, 2], [10, 9, 4])
    images = np.zeros((len(labels), 4, 4, 3), np.uint8)
    method = make_rebalancer("smate").use(np.full((6, 4, 4, 3), 7, np.uint8), np.full(6, 2))
    X, y = method.fit_resample(images, labels)
    assert np.bincount(y).tolist() == [10, 9, 10] and (X[len(images):] == 7).all()


def test_gan_methods_without_or_with_too_few_images_say_which_stage_to_run(imbalanced):
    images, labels = imbalanced
    with pytest.raises(SmateError, match="smate-bench synthesize --variant smate"):
        make_rebalancer("smate").fit_resample(images, labels)
    short = make_rebalancer("smate").use(images[:5], np.full(5, 3))
    with pytest.raises(SmateError, match="has 5 synthetic images of class 3 but balancing needs 32"):
        short.fit_resample(images, labels)


def test_unknown_method_and_unknown_param():
    with pytest.raises(SmateError, match="unknown method 'bogus'"):
        make_rebalancer("bogus")
    with pytest.raises(SmateError, match="rebalance.smote has unknown parameter 'k'; it takes: k_neighbors"):
        make_rebalancer("smote", {"k": 3})


def _objective(name, imbalanced, **params):
    method = make_rebalancer(name, params, seed=0)
    method.fit_resample(*imbalanced)
    return method


LOGITS = torch.tensor([[2.0, 0.5, -1.0, 0.0], [0.0, 0.0, 0.0, 3.0], [1.0, -2.0, 0.5, 0.25]])
LABELS = torch.tensor([0, 3, 2])
PRIOR = torch.log(torch.tensor(COUNTS, dtype=torch.float32) / sum(COUNTS))


def test_class_balanced_weighs_by_the_effective_number(imbalanced):
    method = _objective("class_balanced", imbalanced, beta=0.9)
    raw = [(1 - 0.9) / (1 - 0.9**c) for c in COUNTS]
    np.testing.assert_allclose(method.class_weight_, [4 * w / sum(raw) for w in raw], rtol=1e-6)
    # Plain cross-entropy (the trainer applies the class weights): no label smoothing, whatever the recipe's.
    plain = torch.nn.functional.cross_entropy(LOGITS, LABELS, reduction="none")
    torch.testing.assert_close(method.objective_.loss(LOGITS, LABELS, progress=0.5), plain)


def test_focal_trains_on_the_focal_loss(imbalanced):
    loss = _objective("focal", imbalanced, gamma=2.0).objective_.loss
    p_true = torch.softmax(LOGITS, 1)[torch.arange(3), LABELS]
    torch.testing.assert_close(loss(LOGITS, LABELS, progress=0.5), -((1 - p_true) ** 2) * p_true.log())


def test_ldam_drw_uses_a_cosine_classifier_and_switches_its_weights_on_late(imbalanced):
    method = _objective("ldam_drw", imbalanced, max_margin=0.5, scale=10.0, beta=0.9, drw_start=0.8)
    objective = method.objective_
    margins = 0.5 * (torch.tensor(COUNTS, dtype=torch.float32) / 8) ** -0.25
    shifted = LOGITS - margins[LABELS][:, None] * torch.nn.functional.one_hot(LABELS, 4)
    plain = torch.nn.functional.cross_entropy(10 * shifted, LABELS, reduction="none")
    torch.testing.assert_close(objective.loss(LOGITS, LABELS, progress=0.79), plain)
    raw = torch.tensor([(1 - 0.9) / (1 - 0.9**c) for c in COUNTS])
    # After the switch the batch's mean is the reference's cross_entropy(weight=...): divided by the weights' sum.
    weighted = torch.nn.functional.cross_entropy(10 * shifted, LABELS, weight=4 * raw / raw.sum())
    torch.testing.assert_close(objective.loss(LOGITS, LABELS, progress=0.8).mean(), weighted)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 4))
    objective.prepare(model)
    assert isinstance(model[0], torch.nn.Linear) and not isinstance(model[2], torch.nn.Linear)
    logits = model(torch.randn(6, 5))
    assert logits.shape == (6, 4) and logits.abs().max() <= 1 + 1e-6  # cosines


def test_logit_adjust_adds_tau_log_prior_in_the_loss(imbalanced):
    loss = _objective("logit_adjust", imbalanced, tau=0.5).objective_.loss
    expected = torch.nn.functional.cross_entropy(LOGITS + 0.5 * PRIOR, LABELS, reduction="none")
    torch.testing.assert_close(loss(LOGITS, LABELS, progress=0.0), expected)


def test_balanced_softmax_is_the_logit_adjusted_loss_at_tau_one(imbalanced):
    loss = _objective("balanced_softmax", imbalanced).objective_.loss
    expected = torch.nn.functional.cross_entropy(LOGITS + PRIOR, LABELS, reduction="none")
    torch.testing.assert_close(loss(LOGITS, LABELS, progress=0.0), expected)


def test_posthoc_logit_adjustment_trains_as_the_recipe_and_shifts_test_logits(imbalanced):
    objective = _objective("logit_adjust_posthoc", imbalanced, tau=1.0).objective_
    assert objective.loss is None and objective.prepare is None
    torch.testing.assert_close(objective.adjust(LOGITS), LOGITS - PRIOR)
    # The minority's share is 8/128 against the others' 40/128: its logit gains log 5 = 1.61, which overturns a 1.5 lead.
    assert objective.adjust(torch.tensor([[1.5, 0.0, 0.0, 0.0]])).argmax().item() == 3


def test_listing_the_methods_imports_neither_torch_nor_scikit_learn():
    # Every DVC stage and `smate-bench methods` list the registry first; those imports cost seconds.
    code = "import sys, smate.rebalance; print(sorted({'torch', 'sklearn', 'imblearn'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_samme_weighs_rounds_and_examples_as_zhu_et_al(monkeypatch):
    from types import SimpleNamespace

    from smate import classify

    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    # Each round's guesses on the 8 train images (round 1 misses images 0 and 1, round 2 misses 2-7)
    # and on 3 test images.
    train_guesses = [np.array([1, 1, 1, 1, 2, 2, 3, 3]), np.array([0, 0, 0, 0, 0, 0, 0, 0])]
    test_guesses = [np.array([1, 2, 3]), np.array([0, 0, 3])]
    drawn = []

    def train(images, y, seed):
        round_index = len(drawn)
        drawn.append((images[:, 0, 0, 0].copy(), seed))
        return SimpleNamespace(predictions=test_guesses[round_index], history=[{"epoch": 2, "step": 10}],
                               train_seconds=1.0, epoch_eval_seconds=0.5, predict_seconds=0.25,
                               model=train_guesses[round_index], normalization=None)

    # A round's "model" here is its guesses on the train images.
    monkeypatch.setattr(classify, "predict_labels", lambda model, images, normalization: model)
    samme = make_rebalancer("samme", {"rounds": 2}, seed=3)
    images = np.arange(8, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    result = samme.boost(train, images, labels, num_classes=4)

    # Round 1: error 2/8, alpha = log(3) + log(K - 1) = log 9; the two missed images' weights grow 9-fold,
    # to 9/24 each against 1/24 for the six others. Round 2 misses 2-7: error 6/24, alpha log 9 again.
    assert [r["alpha"] for r in samme.rounds_] == pytest.approx([np.log(9), np.log(9)])
    assert [r["weighted_error"] for r in samme.rounds_] == pytest.approx([0.25, 0.25])
    assert np.array_equal(drawn[0][0], np.arange(8)) and drawn[0][1] == 3  # round 1: the set as it is, the run's seed
    assert drawn[1][1] == 3001 and np.isin(drawn[1][0], [0, 1]).mean() > 0.5  # round 2 draws mostly the missed ones
    # Equal alphas: the vote on test image 0 is a tie (1 or 0), settled towards the lower label; 2 and 3 as voted.
    assert result.predictions.tolist() == [0, 0, 3]
    assert [(h["round"], h["epoch"], h["step"]) for h in result.history] == [(1, 2, 10), (2, 4, 20)]
    assert (result.train_seconds, result.epoch_eval_seconds, result.predict_seconds) == (2.0, 1.0, 0.5)


def test_samme_stops_at_a_round_no_better_than_chance(monkeypatch):
    from types import SimpleNamespace

    from smate import classify

    labels = np.array([0, 1, 2, 3])
    # Round 1 misses image 3, which then holds 3/4 of the weight; round 2 misses it again: error 3/4 = 1 - 1/K.
    guesses = iter([np.array([0, 1, 2, 0]), np.array([0, 1, 2, 0])])
    monkeypatch.setattr(classify, "predict_labels", lambda model, images, normalization: next(guesses))
    samme = make_rebalancer("samme", {"rounds": 5})
    result = samme.boost(lambda images, y, seed: SimpleNamespace(
        predictions=np.array([2]), history=[{"epoch": 1, "step": 1}], train_seconds=0, epoch_eval_seconds=0,
        predict_seconds=0, model=None, normalization=None), np.zeros((4, 2, 2, 3), np.uint8), labels, num_classes=4)
    assert [r["round"] for r in samme.rounds_] == [1, 2] and samme.rounds_[1]["stopped"] == "no better than chance"
    assert result.predictions.tolist() == [2]


def test_samme_refuses_a_round_count_that_is_not_a_positive_integer():
    with pytest.raises(SmateError, match="rebalance.samme.rounds must be an integer >= 1"):
        make_rebalancer("samme", {"rounds": 0})


def test_the_docs_table_of_methods_is_the_registrys():
    from smate.report.method_table import BEGIN, END, method_table

    from conftest import REPO

    docs = (REPO / "docs" / "reference.md").read_text()
    assert docs.split(BEGIN)[1].split(END)[0].strip() == method_table(), \
        "docs/reference.md's table of methods differs; run `smate-bench methods --docs docs/reference.md`"
