"""A trained classifier saved as plain tensors and numbers (the feature net, the guide net, the network of a
run the decoupled methods start from), and rebuilt from them: nothing is unpickled."""

import pickle

import torch

from .. import atomic
from ..errors import SmateError


def save_classifier(path, result, accuracy, classifier, params, num_classes, image_shape):
    """`result` (a TrainResult)'s model and input normalisation, with what rebuilding it needs."""
    with atomic.atomic_path(path) as tmp:
        torch.save({"state": {k: v.cpu() for k, v in result.model.state_dict().items()},
                    "normalization": [t.cpu() for t in result.normalization], "accuracy": accuracy,
                    "classifier": classifier, "params": params, "num_classes": num_classes,
                    "image_shape": list(image_shape)}, tmp)


def load_classifier(path, device, remake):
    """(the saved record, the model on `device`); `remake` is the command that makes the file again."""
    from . import CLASSIFIERS

    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise SmateError(f"'{path}' is missing; make it with `{remake}`") from None
    except pickle.UnpicklingError:
        raise SmateError(f"'{path}' holds pickled objects, not plain tensors, and is refused; remake it with `{remake}`") from None
    recipe = CLASSIFIERS[saved["classifier"]](saved["params"], saved["num_classes"])
    model = recipe.rebuild(saved["image_shape"])
    model.load_state_dict(saved["state"])
    return saved, model.to(device).eval()
