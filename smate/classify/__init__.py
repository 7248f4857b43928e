"""Classifiers by name, and the shared GPU-resident training loop."""

from ._fast import FastRecipe
from ._keras_cnn import KerasCNNRecipe
from ._trainer import TrainResult, extract_features, predict_labels, resolve_device, train_classifier, train_step

CLASSIFIERS = {"fast": FastRecipe, "keras_cnn": KerasCNNRecipe}

__all__ = ["CLASSIFIERS", "TrainResult", "extract_features", "predict_labels", "resolve_device", "train_classifier",
           "train_step"]
