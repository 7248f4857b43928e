"""One training loop for every classifier: the whole train set lives on the device as one tensor,
is augmented a chunk at a time once per epoch, and is batched by index."""

import functools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..data.augment import ClassifierAugment, augment_in_chunks
from ..errors import SmateError
from .objectives import Objective
from ..precision import resolve_bf16


@dataclass
class TrainResult:
    predictions: np.ndarray  # predicted test labels, int64
    history: list  # one dict per epoch
    train_seconds: float  # training alone, without the per-epoch test evaluations
    epoch_eval_seconds: float  # the per-epoch test evaluations that fill the history
    predict_seconds: float  # the final test predictions, with the recipe's test-time augmentation
    model: torch.nn.Module = None  # the trained model, in eval mode
    normalization: tuple = None  # (mean, std) the inputs were normalised with, shaped (1, C, 1, 1)
    scores: np.ndarray = None  # each test image's class probabilities (N, C), from which `predictions` are the argmax


def resolve_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SmateError(f"classify.device is '{name}' but torch sees no CUDA GPU; use --set classify.device=cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise SmateError(f"classify.device '{name}' is not a device torch knows; use auto, cpu, cuda or cuda:N") from None


def to_device(images, mean, std, device, dtype):
    """uint8 NHWC array -> normalised NCHW tensor on the device, converted there to save transfer time."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device, non_blocking=True)
    x = (x.permute(0, 3, 1, 2).float() - mean) / std
    # channels_last is faster for these convs on GPUs and, measured, 1.4-1.5x on our CPUs too.
    return x.to(dtype=dtype, memory_format=torch.channels_last)


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_classifier(recipe, train_images, train_labels, test_images, test_labels, *, class_weight=None,
                     objective=None, minority_ids=(), seed=0, device="cpu", eval_batch_size=2000, progress=False,
                     bf16="auto", eval_every=1, total_steps=None, on_epoch=None):
    """Train `recipe`'s model on the train set and predict the test set; returns predictions and history.
    `objective` (a losses.Objective) replaces the recipe's loss, its model's last layer or the way
    test logits are read, for the methods that rebalance through them. `bf16` (true, false or auto: where the device computes bf16 natively) stores the images in bf16
    and trains under bf16 autocast. The test set is scored every `eval_every` epochs and after the
    last. `total_steps` (default: the recipe's epochs over this train set) fixes the optimizer steps.
    `on_epoch` is given each scored epoch's history record as it is made (smate/pipeline/live.py)."""
    device = resolve_device(device) if isinstance(device, str) else device
    torch.manual_seed(seed)
    params = recipe.params
    bf16 = resolve_bf16(bf16, device)
    autocast_dtype = torch.bfloat16 if bf16 else None
    storage_dtype = torch.bfloat16 if bf16 else torch.float32
    _synchronize(device)
    start = time.perf_counter()

    pixels = torch.from_numpy(np.ascontiguousarray(train_images)).to(device).float()
    mean, std = recipe.normalization(pixels)
    del pixels
    x_train = to_device(train_images, mean, std, device, storage_dtype)
    y_train = torch.from_numpy(np.asarray(train_labels, dtype=np.int64)).to(device)
    x_test = to_device(test_images, mean, std, device, storage_dtype)
    y_test = np.asarray(test_labels, dtype=np.int64)
    weights = None if class_weight is None else torch.as_tensor(class_weight, dtype=torch.float32, device=device)

    objective = objective or Objective()
    model = recipe.build(x_train)
    if objective.prepare:
        objective.prepare(model)
    model = model.to(device, memory_format=torch.channels_last)
    infer = _adjusted(model, objective.adjust)
    n, batch_size = len(x_train), min(params["batch_size"], len(x_train))
    steps_per_epoch = math.ceil(n / batch_size)
    total_steps = max(1, total_steps or math.ceil(params["epochs"] * steps_per_epoch))
    recipe.configure(model, total_steps, steps_per_epoch)
    augment = ClassifierAugment(*recipe.augmentation()).to(device)

    history, step, epoch_eval_seconds = [], 0, 0.0
    epochs = tqdm(range(math.ceil(total_steps / steps_per_epoch)), desc="train", unit="epoch", disable=not progress, leave=False)
    for epoch in epochs:
        model.train()
        x_epoch = augment_in_chunks(augment, x_train).contiguous(memory_format=torch.channels_last)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        seen = 0
        for index in torch.randperm(n, device=device).split(batch_size):
            if step >= total_steps:
                break
            labels = y_train[index]
            loss_fn = None if objective.loss is None else functools.partial(objective.loss, progress=step / total_steps)
            lr = recipe.optimizer.param_groups[-1]["lr"]  # the rate this step took, before the schedule moves it
            losses, logits = train_step(model, recipe, x_epoch[index], labels, weights, autocast_dtype, loss_fn)
            recipe.after_step(step)
            loss_sum += losses.detach().sum()
            correct += (logits.detach().argmax(1) == labels).sum()
            seen += len(index)
            step += 1
        last = step >= total_steps
        if not last and (epoch + 1) % eval_every:
            continue
        _synchronize(device)
        eval_start = time.perf_counter()
        predictions = _predict(model, infer, x_test, eval_batch_size, autocast_dtype)
        history.append({
            "epoch": epoch + 1,
            "step": step,
            "lr": lr,
            "train_loss": loss_sum.item() / seen,
            "train_accuracy": correct.item() / seen,
            "test_accuracy": float((predictions == y_test).mean()),
            "minority_recall": _recall(predictions, y_test, minority_ids),
        })
        epoch_eval_seconds += time.perf_counter() - eval_start
        if on_epoch:
            on_epoch(history[-1])
        epochs.set_postfix(test_acc=f"{history[-1]['test_accuracy']:.3f}")
    recipe.finish()
    _synchronize(device)
    train_seconds = time.perf_counter() - start - epoch_eval_seconds

    start = time.perf_counter()
    scores = _predict(model, _adjusted(lambda x: recipe.predict(model, x), objective.adjust), x_test,
                      eval_batch_size, autocast_dtype, scores=True)
    _synchronize(device)
    return TrainResult(scores.argmax(1).astype(np.int64), history, train_seconds, epoch_eval_seconds,
                       time.perf_counter() - start, model=model, normalization=(mean, std), scores=scores)


def train_step(model, recipe, x, labels, weights=None, autocast_dtype=None, loss_fn=None):
    """One optimizer step of `recipe` on a batch; returns the per-example losses and the logits.
    `loss_fn(logits, labels)` replaces the recipe's cross-entropy (label smoothing included)."""
    with torch.autocast(x.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
        logits = model(x)
    if loss_fn is None:
        losses = F.cross_entropy(logits.float(), labels, reduction="none", label_smoothing=recipe.params.get("label_smoothing", 0.0))
    else:
        losses = loss_fn(logits.float(), labels)
    if weights is not None:
        losses = losses * weights[labels]
    loss = losses.sum() if recipe.sum_loss else losses.mean()
    recipe.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    recipe.optimizer.step()
    return losses, logits


@torch.no_grad()
def extract_features(model, images, normalization, batch_size=2000):
    """The model's penultimate features for uint8 NHWC images, as a float64 numpy array."""
    device = next(model.parameters()).device
    mean, std = (t.to(device) for t in normalization)
    model.eval()
    x = to_device(images, mean, std, device, torch.float32)
    return torch.cat([model.features(batch).float() for batch in x.split(batch_size)]).cpu().double().numpy()


def predict_labels(model, images, normalization, batch_size=2000):
    """A trained model's labels for uint8 NHWC images: its logits' argmax in fp32, in batches on its device."""
    device = next(model.parameters()).device
    mean, std = (t.to(device) for t in normalization)
    return _predict(model, model, to_device(images, mean, std, device, torch.float32), batch_size, None)


def predict_scores(recipe, model, images, normalization, *, bf16=False, batch_size=2000):
    """A trained model's class probabilities for uint8 NHWC images, read as train_classifier reads the test
    set: the recipe's test-time inference, the images stored and run in bf16 when `bf16` (resolved) is true."""
    device = next(model.parameters()).device
    mean, std = (t.to(device) for t in normalization)
    dtype = torch.bfloat16 if bf16 else None
    x = to_device(images, mean, std, device, dtype or torch.float32)
    return _predict(model, lambda batch: recipe.predict(model, batch), x, batch_size, dtype, scores=True)


def _adjusted(infer, adjust):
    return infer if adjust is None else lambda x: adjust(infer(x).float())


@torch.no_grad()
def _predict(model, infer, x, batch_size, autocast_dtype, scores=False):
    """The predicted labels of `x`; with `scores`, the class probabilities (softmax of the logits) instead."""
    model.eval()
    outputs = []
    for batch in x.split(batch_size):
        with torch.autocast(x.device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = infer(batch).float()
        outputs.append(logits.softmax(1) if scores else logits.argmax(1))
    if scores:
        return torch.cat(outputs).cpu().numpy().astype(np.float32)
    return torch.cat(outputs).cpu().numpy().astype(np.int64)


def _recall(predictions, labels, class_ids):
    if not len(class_ids):
        return None
    mask = np.isin(labels, class_ids)
    return float((predictions[mask] == labels[mask]).mean()) if mask.any() else None
