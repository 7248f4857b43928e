"""Classifiers by name, and the shared GPU-resident training loop."""

from ._fast import FastRecipe
from ._keras_cnn import KerasCNNRecipe
from ._resnet import ResNet18Recipe
from ._trainer import (TrainResult, extract_features, predict_labels, predict_scores, resolve_device, train_classifier,
                       train_step)

CLASSIFIERS = {"fast": FastRecipe, "keras_cnn": KerasCNNRecipe, "resnet18": ResNet18Recipe}
# The two regimes of the paper's question that `smate-bench regimes` runs: a strong classifier and the paper's weak one.
REGIMES = ("fast", "keras_cnn")

__all__ = ["CLASSIFIERS", "REGIMES", "TrainResult", "extract_features", "predict_labels", "predict_scores", "resolve_device",
           "train_classifier", "train_step"]
