"""Classifiers by name, and the shared GPU-resident training loop (imported when first used: see smate/registry.py)."""

from ..registry import Registry, lazy_attributes

CLASSIFIERS = Registry("classifier", {"fast": "smate.classify._fast:FastRecipe", "keras_cnn": "smate.classify._keras_cnn:KerasCNNRecipe",
                        "resnet18": "smate.classify._resnet:ResNet18Recipe"})
# The two regimes of the paper's question that `smate-bench regimes` runs: a strong classifier and the paper's weak one.
REGIMES = ("fast", "keras_cnn")
# keras_cnn's training recipes (smate/classify/_keras_cnn.py): the authors' notebook's, or ours.
KERAS_CNN_RECIPES = ("authors", "ours")

_TRAINER = ("TrainResult", "extract_features", "predict_labels", "predict_scores", "resolve_device", "train_classifier",
            "train_step")
__getattr__ = lazy_attributes(__name__, {name: f"smate.classify._trainer:{name}" for name in _TRAINER})

__all__ = ["CLASSIFIERS", "KERAS_CNN_RECIPES", "REGIMES", *_TRAINER]
