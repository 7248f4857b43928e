"""The GAN training loop: data on the device, D then G each step, per-epoch records, fixed-noise
sample grids and checkpoints that let a killed run resume where it stopped."""

import copy
import hashlib
import json
import pickle
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel
from torchvision.utils import save_image
from tqdm import tqdm

from .. import atomic
from ..errors import SmateError
from ..digest import code_digest
from ..precision import resolve_bf16
from .collapse import SAMPLES, collapse_warning, collapsed, mean_pairwise_ssim
from .diffaugment import diff_augment
from .parts import ARCHITECTURES, LOSSES
from .losses import LeCam
from .models import ConditionalGenerator, ProjectionDiscriminator, freeze_first, freeze_first_weights, transfer_freeze
from .step import GANStepper

GRID_SIZE = 64
BATCHNORM_BATCHES = 8  # batches of its own samples that set an EMA generator's BatchNorm statistics


def build_gan(params, channels=3, image_shape=(32, 32), num_classes=None):
    """G and D of the architecture for (H, W) images; with `num_classes`, conditioned on the label (a cGAN)."""
    make_generator, make_discriminator = ARCHITECTURES[params["architecture"]]
    image_shape = tuple(image_shape)
    generator = make_generator(channels=channels, image_shape=image_shape)
    discriminator = make_discriminator(channels=channels, image_shape=image_shape)
    if num_classes is None:
        return generator, discriminator
    return ConditionalGenerator(generator, num_classes), ProjectionDiscriminator(discriminator, num_classes)


def make_gan(params, device="cpu", channels=3, image_shape=(32, 32), init=None, freeze=0, capturable=False,
             num_classes=None, freeze_d=0):
    """G and D on the device (channels_last), conditioned on `num_classes` labels if given, started
    from `init`'s state dicts if given, G's first `freeze` layers (counted as at 32x32) and D's first `freeze_d`
    weight layers frozen, and an optimizer for each (D's at gan.train.lr_d where given):
    (generator, discriminator, opt_g, opt_d)."""
    generator, discriminator = build_gan(params, channels, image_shape, num_classes)
    if init is not None:
        generator.load_state_dict(init["generator"])
        discriminator.load_state_dict(init["discriminator"])
    if freeze:
        freeze_first(generator, transfer_freeze(freeze, image_shape))
    if freeze_d:
        freeze_first_weights(discriminator, freeze_d)
    generator.to(device, memory_format=torch.channels_last)
    discriminator.to(device, memory_format=torch.channels_last)
    lr_d = params["lr"] if params["lr_d"] is None else params["lr_d"]
    return (generator, discriminator, make_optimizer(params, generator.parameters(), capturable),
            make_optimizer(params, discriminator.parameters(), capturable, lr_d))


def make_optimizer(params, parameters, capturable=False, lr=None):
    """`capturable` keeps the optimizer's step counts on the device, as a CUDA graph needs."""
    trainable = [p for p in parameters if p.requires_grad]
    lr = params["lr"] if lr is None else lr
    if params["optimizer"] == "adam":
        return torch.optim.Adam(trainable, lr=lr, betas=(params["beta1"], params["beta2"]), capturable=capturable)
    return torch.optim.RMSprop(trainable, lr=lr, capturable=capturable)


def make_ema(generator, decay):
    """An exponential moving average of G's weights and BatchNorm statistics, or None at decay 0. Its n-th
    update keeps min(decay, (1 + n) / (10 + n)) of the average, TensorFlow's warm-up: at a fixed 0.999 a CPU
    run's 1,000 steps would still hold a third of the untrained start (every sample alike, measured)."""
    if not decay:
        return None

    def average(averaged, current, count):
        kept = min(decay, (1 + float(count)) / (10 + float(count)))
        return averaged + (current - averaged) * (1 - kept)

    return AveragedModel(generator, avg_fn=average, use_buffers=True)


@torch.no_grad()
def recompute_batchnorm(generator, batch_size, seed, num_classes=None, batches=BATCHNORM_BATCHES):
    """A copy of `generator` whose training BatchNorm layers hold the statistics of `batches` batches of its own
    samples (a cGAN's cycling through the classes): an EMA's averaged statistics belong to none of the weights it
    averaged. torch.optim.swa_utils.update_bn is not used: it resets every BatchNorm, the frozen ones of a transfer
    too, which our generators keep in eval mode, so their statistics would be lost."""
    generator = copy.deepcopy(generator).train()
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches
    device = next(generator.parameters()).device
    draw = torch.Generator().manual_seed(seed)
    condition = () if num_classes is None else (torch.arange(batch_size, device=device) % num_classes,)
    for _ in range(batches):
        generator(torch.randn(batch_size, generator.latent_dim, generator=draw).to(device), *condition)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return generator.eval()


def to_unit_range(images, device):
    """uint8 NHWC -> float NCHW in [-1, 1] on the device, the generator's tanh range."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float()
    return (x / 127.5 - 1).contiguous(memory_format=torch.channels_last)


def to_uint8(images):
    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def train_gan(images, params, epochs, out_dir, *, seed=0, device="cpu", init=None, freeze=0, diffaugment=False,
              guide=None, labels=None, num_classes=None, progress=False, label="gan", time_budget=None, on_epoch=None,
              snapshots=False, freeze_d=0, lecam=0.0, passes=1):
    """Train a GAN on uint8 NHWC `images`; write generator.pt, discriminator.pt, history.json,
    samples/ and checkpoint.pt under `out_dir`. With `labels` and `num_classes`, a cGAN conditioned on
    the images' labels. `init` holds state dicts to start from (transfer);
    `freeze` stops gradients to the generator's first modules, `freeze_d` to D's first weight layers (FreezeD);
    `lecam` weighs the LeCam regulariser in D's loss; `diffaugment` shows D every image
    through DiffAugment; `guide` (a ClassifierGuide, SMate+) adds its term to G's loss, and each
    epoch's history records the share of fakes its classifier recognises. With gan.train.ema, the grids, the
    collapse signal and generator.pt come from the moving average of G's weights, its BatchNorm statistics
    recomputed from its own samples (gan.train.ema_batchnorm: recompute) or averaged with the weights (average).
    Each epoch records its samples' mean pairwise SSIM beside the real images' (the collapse signal,
    smate/gan/collapse.py).
    With `time_budget` (seconds), training stops after the first epoch that takes the epochs' time past it,
    for studies that give recipes the same CPU minutes. `on_epoch` is given each epoch's history record (a
    resumed training's earlier ones first). With `snapshots`, the sampling generator's weights at each grid go to
    snapshots/ too, for a quality curve over the training. An epoch makes `passes` passes over the images, so that a
    few images train as many steps an epoch as a larger set, with its once-an-epoch sampling and collapse signal.
    Returns (the sampling generator, history)."""
    out_dir = Path(out_dir)
    device = torch.device(device)
    torch.manual_seed(seed)
    graphs = device.type == "cuda" and params["cuda_graphs"]
    generator, discriminator, opt_g, opt_d = make_gan(params, device, images.shape[-1], images.shape[1:3], init, freeze, graphs,
                                                      num_classes if labels is not None else None, freeze_d)
    real_all = to_unit_range(images, device)
    labels_all = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    fixed_noise = torch.randn(GRID_SIZE, generator.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    # A cGAN's grid cycles through the classes, a row of eight showing eight of them.
    fixed_labels = None if labels is None else torch.arange(GRID_SIZE, device=device) % num_classes
    autocast = torch.bfloat16 if resolve_bf16(params["bf16"], device) else None
    step = GANStepper(generator, discriminator, opt_g, opt_d, LOSSES[params["loss"]](), autocast, graphs,
                      diff_augment if diffaugment else None, guide, params["r1"], LeCam(lecam, device) if lecam else None)
    ema = make_ema(generator, params["ema"])
    recompute = ema is not None and params["ema_batchnorm"] == "recompute"

    def sampler():
        """The generator that draws the grids, the collapse signal and generator.pt: G, or the EMA of G."""
        if not recompute:
            return generator if ema is None else ema.module
        return recompute_batchnorm(ema.module, params["batch_size"], seed, num_classes if labels is not None else None)

    real_similarity = _real_similarity(real_all, seed)

    fingerprint = _fingerprint(params, images, seed, freeze, init, diffaugment, guide, labels, (freeze_d, lecam), passes)
    history, start_epoch = [], 0
    checkpoint_path = out_dir / "checkpoint.pt"
    state = _load_checkpoint(checkpoint_path, device)
    if state is not None and state["fingerprint"] == fingerprint and state["epoch"] > epochs:
        print(f"{label}: {checkpoint_path} is at epoch {state['epoch']}, past the {epochs} asked for; starting afresh")
    elif state is not None and state["fingerprint"] == fingerprint:
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        torch.set_rng_state(state["rng_cpu"])
        if device.type == "cuda" and state["rng_cuda"] is not None:
            torch.cuda.set_rng_state(state["rng_cuda"], device)
        history, start_epoch = state["history"], state["epoch"]
        print(f"{label}: resuming from epoch {start_epoch} ({checkpoint_path})")
    for record in history if on_epoch else ():
        on_epoch(record)
    for earlier in ("samples", "snapshots"):
        if start_epoch == 0 and (out_dir / earlier).is_dir():
            shutil.rmtree(out_dir / earlier)  # grids of an earlier, different run would mislead

    n, batch_size = len(real_all), min(params["batch_size"], len(real_all))
    drawing = None  # the last epoch's sampling generator, which generator.pt saves
    bar = tqdm(range(start_epoch, epochs), desc=label, unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        generator.train()
        discriminator.train()
        sums = torch.zeros(4 if guide is None else 5, device=device)  # d_loss, g_loss, real caught, fake caught[, recognised]
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        steps = 0
        for _ in range(passes):
            for index in torch.randperm(n, device=device).split(batch_size):
                sums += step(real_all[index], None if labels_all is None else labels_all[index])
                if ema is not None:
                    ema.update_parameters(generator)
                steps += 1
        sums = (sums / steps).tolist()
        seconds = time.perf_counter() - start
        drawing = sampler()
        history.append({"epoch": epoch + 1, "d_loss": sums[0], "g_loss": sums[1], "d_real_accuracy": sums[2],
                        "d_fake_accuracy": sums[3], **({} if guide is None else {"guide_minority_rate": sums[4]}),
                        "sample_ssim": _sample_similarity(drawing, fixed_noise, fixed_labels),
                        "seconds": seconds, "images_per_second": n * passes / seconds})
        if on_epoch:
            on_epoch(history[-1])
        bar.set_postfix(d_loss=f"{sums[0]:.3f}", g_loss=f"{sums[1]:.3f}", fake_acc=f"{sums[3]:.2f}")
        last = epoch + 1 == epochs or (time_budget is not None and sum(h["seconds"] for h in history) >= time_budget)
        if last or (epoch + 1) % params["sample_every"] == 0:
            _save_grid(drawing, fixed_noise, out_dir / "samples" / f"epoch_{epoch + 1:04d}.png", fixed_labels)
            if snapshots:
                with atomic.atomic_path(out_dir / "snapshots" / f"epoch_{epoch + 1:04d}.pt") as tmp:
                    torch.save(drawing.state_dict(), tmp)
        if last or (epoch + 1) % params["checkpoint_every"] == 0:
            _save_checkpoint(checkpoint_path, fingerprint, epoch + 1, generator, discriminator, ema, opt_g, opt_d, history,
                             device)
        if last:
            break

    if history and collapsed(history[-1]["sample_ssim"], real_similarity):
        print(collapse_warning(label, history[-1]["sample_ssim"], real_similarity, out_dir / "samples"))
    if drawing is None:  # a run resumed at its last epoch trains none
        drawing = sampler()
    with atomic.atomic_path(out_dir / "generator.pt") as tmp:
        torch.save(drawing.state_dict(), tmp)
    with atomic.atomic_path(out_dir / "discriminator.pt") as tmp:
        torch.save(discriminator.state_dict(), tmp)
    atomic.write_json(out_dir / "history.json", {"label": label, "n_images": n, "seed": seed, "freeze": freeze,
                                                 **({"freeze_d": freeze_d} if freeze_d else {}),
                                                 **({"lecam": lecam} if lecam else {}),
                                                 **({"passes": passes} if passes > 1 else {}),
                                                 "diffaugment": diffaugment, "ema": params["ema"],
                                                 "real_ssim": real_similarity, "history": history})
    return drawing, history


def _real_similarity(real, seed):
    """The collapse signal's yardstick: the mean pairwise SSIM of a seeded draw of the real images."""
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))[:SAMPLES]
    return mean_pairwise_ssim(real[pick.to(real.device)])


@torch.no_grad()
def _sample_similarity(generator, noise, labels):
    generator.eval()
    images = generator(noise[:SAMPLES], *(() if labels is None else (labels[:SAMPLES],)))
    generator.train()
    return mean_pairwise_ssim(images)


@torch.no_grad()
def sample(generator, count, seed, device="cpu", batch_size=1000, label=None):
    """`count` uint8 NHWC images from the generator, from noise seeded by `seed`; a cGAN's of class `label`."""
    generator.eval()
    # At least one draw, so that an empty result still has the generator's image shape.
    noise = torch.randn(max(count, 1), generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    condition = () if label is None else (torch.full((min(len(noise), batch_size),), label, device=device),)
    parts = [to_uint8(generator(chunk.to(device), *(labels[:len(chunk)] for labels in condition)))
             for chunk in noise.split(batch_size)]
    return np.concatenate(parts)[:count]


@torch.no_grad()
def _save_grid(generator, noise, path, labels=None):
    generator.eval()
    images = (generator(noise, *(() if labels is None else (labels,))).float().clamp(-1, 1) + 1) / 2
    generator.train()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(path) as tmp:
        save_image(images, tmp, nrow=8, format="png")


def _load_checkpoint(path, device):
    """The checkpoint's plain state (tensors, numbers, strings), or None when there is none.
    Never unpickles objects: a checkpoint shared with results could otherwise run code."""
    if not path.is_file():
        return None
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise SmateError(f"'{path}' holds pickled objects, not plain tensors, and is refused; "
                         "delete it to train afresh") from None


def _save_checkpoint(path, fingerprint, epoch, generator, discriminator, ema, opt_g, opt_d, history, device):
    state = {
        "fingerprint": fingerprint, "epoch": epoch, "history": history,
        "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
        **({} if ema is None else {"ema": ema.state_dict()}),
        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    with atomic.atomic_path(path) as tmp:
        torch.save(state, tmp)


def _fingerprint(params, images, seed, freeze, init, diffaugment, guide, labels, transfer=(0, 0.0), passes=1):
    """What a checkpoint must share with this run to be resumed: everything but the epoch count,
    which may grow (a checkpoint past it is not resumed), and the GAN code that made it."""
    digest = hashlib.sha256(json.dumps({k: v for k, v in params.items() if k != "epochs"}, sort_keys=True, default=str).encode())
    digest.update(code_digest(("smate/gan", "smate/precision.py")).encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    if labels is not None:
        digest.update(np.asarray(labels, dtype=np.int64).tobytes())
    digest.update(f"{seed}/{freeze}/{diffaugment}/{guide.fingerprint() if guide else None}".encode())
    if any(transfer):  # FreezeD and LeCam, named only where used, so that the checkpoints from before them resume
        digest.update(f"/{transfer}".encode())
    if passes > 1:
        digest.update(f"/passes {passes}".encode())
    if init is not None:
        for tensor in init["generator"].values():
            digest.update(tensor.cpu().numpy().tobytes())
    return digest.hexdigest()
