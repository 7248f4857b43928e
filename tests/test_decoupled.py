"""The decoupled methods: the imbalanced run's network, its backbone frozen, its last layer re-fitted."""

import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from conftest import REPO, TINY
from smate.classify.head import retrain_head, tau_normalized, with_head
from smate.cli import main
from smate.config import build_config
from smate.errors import SmateError
from smate.gan.feature_diffusion import FeatureDiffusion
from smate.gan.feature_gan import FeatureDiscriminator, FeatureGenerator, train_feature_gan
from smate.gan.feature_space import GENERATORS, Standardizer, smate_in_feature_space
from smate.rebalance import make_rebalancer
from smate.report import build_report
from smate.pipeline.stage_registry import plan
from smate.report.records import PAPER_REFERENCE

DECOUPLED = ("crt", "tau_norm", "feature_smote", "feature_smate")


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.ReLU())
        self.head = nn.Linear(6, 3)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def clustered(counts=(60, 60, 12), dim=6, seed=0, apart=3.0):
    """Features of three classes around their own centres (`apart` sets how far); the last class is the minority."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    centres = rng.normal(0, apart, (len(counts), dim))
    return centres[labels] + rng.normal(0, 1, (len(labels), dim)), labels


@pytest.mark.parametrize("name", ["crt", "feature_smote", "feature_smate"])
def test_refitting_leaves_the_backbone_and_the_given_network_untouched(name):
    model = Backbone()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    features, labels = clustered()
    method = make_rebalancer(name, {"pretrain_steps": 50, "transfer_steps": 20} if name == "feature_smate" else {})
    head = method.refit(model, features, labels, [2])
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    refitted = with_head(model, head).state_dict()
    assert all(torch.equal(before[key], refitted[key]) for key in before if key.startswith("body."))
    assert not torch.equal(before["head.weight"], refitted["head.weight"])


def test_crt_samples_the_classes_equally_and_raises_the_minoritys_logits():
    features, labels = clustered(counts=(200, 200, 10), apart=0.5)  # overlapping: the prior decides
    like = nn.Linear(6, 3)
    plain = retrain_head(like, features, labels, balanced=False, epochs=20, lr=0.01, batch_size=64, seed=0)
    balanced = retrain_head(like, features, labels, balanced=True, epochs=20, lr=0.01, batch_size=64, seed=0)
    x = torch.as_tensor(features, dtype=torch.float32)
    with torch.no_grad():
        minority_share = [(head(x).argmax(1) == 2).float().mean().item() for head in (plain, balanced)]
    assert minority_share[1] > minority_share[0]


def test_tau_normalisation_divides_each_class_by_its_norm_to_the_power_tau():
    head = nn.Linear(6, 3)
    with torch.no_grad():
        head.weight.mul_(torch.tensor([[1.0], [4.0], [0.5]]))
    assert torch.equal(tau_normalized(head, 0.0).weight, head.weight)
    assert torch.equal(tau_normalized(head, 0.0).bias, head.bias)
    unit = tau_normalized(head, 1.0).weight.norm(dim=1)
    assert torch.allclose(unit, torch.ones(3))
    half = tau_normalized(head, 0.5)
    assert torch.allclose(half.weight.norm(dim=1), head.weight.norm(dim=1).sqrt())
    assert torch.allclose(half.bias, head.bias / head.weight.norm(dim=1).sqrt())


def test_feature_smote_adds_minority_features_between_minority_features():
    features, labels = clustered()
    method = make_rebalancer("feature_smote", {"k_neighbors": 3})
    method.refit(Backbone(), features, labels, [2])
    made, made_labels = method.synthetic_
    assert len(made) == 60 - 12 and set(made_labels) == {2}
    minority = features[labels == 2]
    assert (made >= minority.min(0) - 1e-9).all() and (made <= minority.max(0) + 1e-9).all()


def test_the_feature_gan_transfer_keeps_its_frozen_layers_and_learns_the_minority():
    torch.manual_seed(0)
    generator, discriminator = FeatureGenerator(8, 32, 4), FeatureDiscriminator(4, 32)
    first = generator[0].weight.clone()
    rng = np.random.default_rng(0)
    train_feature_gan(generator, discriminator, rng.normal(2.0, 0.3, (200, 4)), 400, 64, 0.002, seed=0, frozen=1)
    assert torch.equal(generator[0].weight, first)
    assert not torch.equal(generator[2].weight, FeatureGenerator(8, 32, 4)[2].weight)


@pytest.mark.parametrize("generator", GENERATORS)
def test_each_feature_generator_pretrained_on_the_majority_transfers_to_the_minority(generator):
    # Pretrained on two majority classes, transferred to a third far from both: its samples sit on the third.
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(-3, 1, (300, 4)), rng.normal(0, 1, (300, 4)), rng.normal(4, 0.5, (30, 4))])
    labels = np.repeat([0, 1, 2], [300, 300, 30])
    generators, scale = smate_in_feature_space(features, labels, [2], generator=generator, noise_dim=8, width=64,
                                               pretrain_steps=600, transfer_steps=600, frozen=1, batch_size=64, lr=0.002, seed=0)
    made = scale.back(generators[2].draw(500, seed=1))
    assert np.abs(made.mean(0) - 4).max() < 0.75 and np.abs(made.mean(0) - 0).min() > 2
    assert np.abs(made.std(0) - 0.5).max() < 0.3  # spread like the class's, neither one point nor noise


def test_the_feature_diffusion_transfer_keeps_its_frozen_layers():
    torch.manual_seed(0)
    model = FeatureDiffusion(4, 32)
    first, last = model.net[0].weight.clone(), model.net[-1].weight.clone()
    model.fit(np.random.default_rng(0).normal(2.0, 0.3, (200, 4)), 50, 64, 0.002, seed=0, frozen=1)
    assert torch.equal(model.net[0].weight, first) and not torch.equal(model.net[-1].weight, last)
    assert all(p.requires_grad for p in model.parameters())


def test_synthetic_features_stay_above_the_least_value_the_backbone_gave():
    features = np.abs(np.random.default_rng(0).normal(0, 1, (100, 3)))  # post-ReLU: never below 0
    scale = Standardizer(features, floor=features.min(0))
    assert (scale.back(np.full((5, 3), -50.0)) >= features.min(0)).all()


def test_a_decoupled_run_follows_its_base_run_and_is_keyed_on_it():
    config = build_config(preset="tiny", overrides=["methods=crt,imbalanced", "seeds=0,1"])
    steps = {step.name: step for step in plan(config, "/tmp/unused")}
    assert steps["train@crt-1"].after == ("split", "train@imbalanced-1")
    assert "train@imbalanced-1" in steps["train@crt-1"].keyed_on
    names = list(steps)
    assert names.index("train@imbalanced-0") < names.index("train@crt-0")


def test_a_decoupled_method_without_its_base_says_what_to_add():
    with pytest.raises(SmateError, match="re-fits the last layer of the imbalanced run's network; add imbalanced"):
        build_config(preset="tiny", overrides=["methods=tau_norm,smote"])


@pytest.fixture(scope="module")
def decoupled_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("decoupled")
    methods = ",".join(("imbalanced", *DECOUPLED))
    assert main(["run", *TINY, "--set", f"methods={methods}", "--set", "seeds=0", "--workers", "1", "--out", str(out)]) == 0
    return out


def test_tau_norm_at_tau_zero_changes_no_prediction(decoupled_run):
    assert main(["train", *TINY, "--set", "methods=imbalanced,tau_norm", "--set", "seeds=0",
                 "--set", "rebalance.tau_norm.tau=0.0", "--method", "tau_norm", "--seed", "0",
                 "--out", str(decoupled_run)]) == 0
    runs = decoupled_run / "runs"
    assert (runs / "tau_norm-0" / "predictions.csv").read_text() == (runs / "imbalanced-0" / "predictions.csv").read_text()


def test_each_decoupled_run_records_its_base_and_the_feature_generators_their_scores(decoupled_run):
    for name in DECOUPLED:
        record = json.loads((decoupled_run / "runs" / f"{name}-0" / "metrics.json").read_text())
        assert record["base_run"] == "imbalanced-0" and record["seconds"]["train"] > record["seconds"]["rebalance"] > 0
    record = json.loads((decoupled_run / "runs" / "feature_smate-0" / "metrics.json").read_text())
    score = record["feature_generator"]["truck"]
    assert score["frechet_distance"] > 0 and 0 <= score["recall"] <= 1
    assert len(set(record["train_counts"].values())) == 1
    assert not (decoupled_run / "runs" / "crt-0" / "network.pt").exists()


def test_the_report_tests_the_feature_space_claims_and_scores_the_feature_generators(decoupled_run):
    text = build_report(decoupled_run, PAPER_REFERENCE, decoupled_run / "report")
    assert "SMate in feature space beats SMOTE in feature space on balanced accuracy" in text
    assert "Feature-space generators" in text and "| feature_smote " in text and "| feature_smate " in text
    assert "The best generative method (pixel or feature space) beats every loss-based method" in text


def test_a_missing_base_network_says_which_run_to_make(decoupled_run, tmp_path, capsys):
    shutil.copytree(decoupled_run / "prepared", tmp_path / "prepared")
    code = main(["train", *TINY, "--set", "methods=imbalanced,crt", "--method", "crt", "--seed", "0", "--out", str(tmp_path)])
    assert code == 2 and "smate-bench train --method imbalanced --seed 0" in capsys.readouterr().err


def test_an_unknown_feature_generator_is_refused_in_one_line():
    with pytest.raises(SmateError, match=r"rebalance.feature_smate.generator must be one of gan, diffusion, got 'vae'"):
        make_rebalancer("feature_smate", {"generator": "vae"})
