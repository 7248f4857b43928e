"""The decoupled methods' hot paths at paper-cpu's size (9,100 features of keras_cnn's 512, one minority class of
100): what each adds to the imbalanced run it starts from is these times the steps its params set."""

import numpy as np
import pytest
import torch

from smate.classify.head import retrain_head
from smate.config import defaults
from smate.gan.feature_gan import FeatureDiscriminator, FeatureGenerator, train_feature_gan

COUNTS, DIM = [1000] * 9 + [100], 512
GAN_STEPS = 20  # a slice of feature_smate's 2,000 pretraining and 500 transfer steps


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(COUNTS)), COUNTS)
    centres = rng.normal(0, 1, (len(COUNTS), DIM))
    return np.maximum(centres[labels] + rng.normal(0, 1, (len(labels), DIM)), 0), labels  # post-ReLU, as keras_cnn's


def test_head_retraining_epoch(benchmark, features):
    """One of crt's (and feature_smote's, feature_smate's) epochs over the features, class-balanced."""
    x, y = features
    params = defaults()["rebalance"]["crt"]
    like = torch.nn.Linear(DIM, len(COUNTS))
    head = benchmark.pedantic(retrain_head, args=(like, x, y), kwargs={"balanced": True, "epochs": 1, "lr": params["lr"],
                              "batch_size": params["batch_size"], "seed": 0}, rounds=5, iterations=1)
    assert head.weight.shape == like.weight.shape


def test_feature_gan_steps(benchmark, features):
    """GAN_STEPS of feature_smate's MLP GAN at its default width and batch."""
    params = defaults()["rebalance"]["feature_smate"]
    x = features[0][features[1] != len(COUNTS) - 1]
    models = {}

    def setup():
        torch.manual_seed(0)
        models["g"] = FeatureGenerator(params["noise_dim"], params["width"], DIM)
        models["d"] = FeatureDiscriminator(DIM, params["width"])
        return (models["g"], models["d"], x, GAN_STEPS, params["generator_batch_size"], params["generator_lr"], 0), {}

    losses = benchmark.pedantic(train_feature_gan, setup=setup, rounds=5)
    assert all(np.isfinite(losses))
