"""The GAN on the CPU: tiny runs on a few fixture images."""

import json

import numpy as np
import pytest
import torch

from smate.config import defaults
from smate.data import load_dataset
from smate.errors import SmateError
from smate.gan import ARCHITECTURES, LOSSES, build_gan, freeze_first, sample, train_gan
from smate.gan.guide import ClassifierGuide
from smate.gan.models import BrownleeDiscriminator, BrownleeGenerator, SNGANDiscriminator, SNGANGenerator
from smate.gan.losses import LeCam
from smate.gan.step import GANStepper, gan_step
from smate.gan.train import make_gan, to_unit_range

from conftest import FIXTURE

PARAMS = {**defaults()["gan"]["train"], "architecture": "brownlee", "loss": "gan", "batch_size": 16, "bf16": False,
          "sample_every": 1, "checkpoint_every": 1}


@pytest.fixture(scope="module")
def trucks():
    dataset = load_dataset("imagefolder", FIXTURE)
    return dataset.train_images[dataset.train_labels == 9][:16]


def test_brownlee_sizes_match_the_paper():
    assert sum(p.numel() for p in BrownleeGenerator().parameters()) == 1_466_115
    assert sum(p.numel() for p in BrownleeDiscriminator().parameters()) == 522_497


def test_the_sngan_generator_has_the_reference_recipes_layers_and_size():
    generator = SNGANGenerator()
    assert sum(p.numel() for p in generator.parameters()) == 1_218_051  # the 1.22M
    upsampling = [m for m in generator if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size, m.stride) for m in upsampling] == [
        (256, 128, (4, 4), (2, 2)), (128, 64, (4, 4), (2, 2)), (64, 32, (4, 4), (2, 2))]
    discriminator = SNGANDiscriminator()
    convs = [m for m in discriminator if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in convs] == [
        (3, 64, 4, 2), (64, 64, 3, 1), (64, 128, 4, 2), (128, 128, 3, 1), (128, 256, 4, 2)]
    # Spectral norm on every weight, LeakyReLU 0.1 between; the variant for R1 has no spectral norm.
    assert all(hasattr(m, "parametrizations") for m in [*convs, discriminator[-1]])
    assert {m.negative_slope for m in discriminator if isinstance(m, torch.nn.LeakyReLU)} == {0.1}
    plain = build_gan({"architecture": "sngan_cnn_nosn"})[1]
    assert not any(hasattr(m, "parametrizations") for m in plain)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_architectures_map_noise_to_images_and_images_to_one_score(name):
    generator, discriminator = build_gan({"architecture": name})
    images = generator(torch.randn(3, generator.latent_dim))
    assert images.shape == (3, 3, 32, 32) and images.abs().max() <= 1
    assert discriminator(images).shape == (3, 1)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_freeze_first_six_leaves_the_last_two_convs_trainable_in_every_architecture(name):
    generator = freeze_first(build_gan({"architecture": name})[0], 6)
    trainable = [type(m).__name__ for m in generator if any(p.requires_grad for p in m.parameters())]
    convs = [kind for kind in trainable if kind != "BatchNorm2d"]
    assert convs == ["ConvTranspose2d", "Conv2d"]
    # A BatchNorm trains with the layer it follows: the last upsampling's does, the two before it do not.
    has_batchnorm = any(isinstance(m, torch.nn.BatchNorm2d) for m in generator)
    assert len(trainable) == (3 if has_batchnorm else 2)


def test_frozen_batchnorm_keeps_its_running_statistics_in_training():
    generator = freeze_first(build_gan({"architecture": "dcgan_sn"})[0], 6).train()
    norms = [m for m in generator if isinstance(m, torch.nn.BatchNorm2d)]
    before = [m.running_mean.clone() for m in norms]
    generator(torch.randn(8, 100))
    assert [m.training for m in norms] == [False, False, True]
    assert torch.equal(norms[0].running_mean, before[0]) and torch.equal(norms[1].running_mean, before[1])
    assert not torch.equal(norms[2].running_mean, before[2])


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_losses_are_finite_and_reward_the_right_side(loss_name):
    torch.manual_seed(0)
    loss = LOSSES[loss_name]()
    discriminator = BrownleeDiscriminator().eval()
    real, fake = torch.rand(4, 3, 32, 32) * 2 - 1, torch.rand(4, 3, 32, 32) * 2 - 1
    confident = torch.full((4, 1), 3.0)
    good = loss.discriminator_loss(confident, -confident, discriminator, real, fake)
    bad = loss.discriminator_loss(-confident, confident, discriminator, real, fake)
    assert torch.isfinite(good) and torch.isfinite(bad) and good < bad
    # The generator gains when its fakes score as real.
    assert loss.generator_loss(confident) < loss.generator_loss(-confident)


@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_one_epoch_per_loss_records_finite_history(loss_name, trucks, tmp_path):
    _, history = train_gan(trucks, {**PARAMS, "loss": loss_name}, 1, tmp_path, seed=0)
    record = history[0]
    assert np.isfinite(record["d_loss"]) and np.isfinite(record["g_loss"])
    assert 0 <= record["d_real_accuracy"] <= 1 and 0 <= record["d_fake_accuracy"] <= 1
    assert record["images_per_second"] > 0
    for name in ("generator.pt", "discriminator.pt", "history.json", "checkpoint.pt", "samples/epoch_0001.png"):
        assert (tmp_path / name).is_file()


def test_same_seed_same_generator(trucks, tmp_path):
    first, _ = train_gan(trucks, PARAMS, 1, tmp_path / "a", seed=3)
    second, _ = train_gan(trucks, PARAMS, 1, tmp_path / "b", seed=3)
    for a, b in zip(first.state_dict().values(), second.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(sample(first, 5, seed=1), sample(second, 5, seed=1))


def test_transfer_keeps_frozen_layers_bit_identical(trucks, tmp_path):
    pretrained, _ = train_gan(trucks, PARAMS, 1, tmp_path / "pre", seed=0)
    init = {"generator": pretrained.state_dict(),
            "discriminator": torch.load(tmp_path / "pre" / "discriminator.pt", weights_only=True)}
    transferred, _ = train_gan(trucks[::-1].copy(), PARAMS, 1, tmp_path / "transfer", seed=1, init=init, freeze=6)
    before, after = pretrained.state_dict(), transferred.state_dict()
    frozen = [k for k in before if int(k.split(".")[0]) < 6]
    trained = [k for k in before if int(k.split(".")[0]) >= 6]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert all(not torch.equal(before[k], after[k]) for k in trained)


def test_freezed_keeps_ds_first_weight_layers_and_trains_the_rest(trucks, tmp_path):
    params = {**PARAMS, "architecture": "sngan_cnn", "loss": "hinge"}
    train_gan(trucks, params, 1, tmp_path / "pre", seed=0)
    before = torch.load(tmp_path / "pre" / "discriminator.pt", weights_only=True)
    init = {"generator": torch.load(tmp_path / "pre" / "generator.pt", weights_only=True), "discriminator": before}
    train_gan(trucks[::-1].copy(), params, 1, tmp_path / "transfer", seed=1, init=init, freeze_d=3)
    after = torch.load(tmp_path / "transfer" / "discriminator.pt", weights_only=True)
    # Spectral norm keeps each weight as its original; its power-iteration vectors move whether or not it trains.
    weights = [name for name in before if name.endswith(("weight.original", "bias"))]
    layers = sorted({int(name.split(".")[0]) for name in weights})
    frozen = [name for name in weights if int(name.split(".")[0]) in layers[:3]]
    # The score's bias has no gradient under hinge while every score is inside the margin: weights alone.
    trained = [name for name in weights if int(name.split(".")[0]) in layers[3:] and name.endswith("original")]
    assert len(frozen) == 6 and all(torch.equal(before[name], after[name]) for name in frozen)
    assert trained and all(not torch.equal(before[name], after[name]) for name in trained)
    record = json.loads((tmp_path / "transfer" / "history.json").read_text())
    assert record["freeze_d"] == 3 and "lecam" not in record


def test_lecam_adds_its_weighted_anchored_penalty_to_ds_loss():
    lecam = LeCam(0.3, "cpu")
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-1.0, 1.0])
    # First batch: the anchors are its own means (real 1.0, fake 0.0).
    expected = 0.3 * ((torch.relu(real - 0.0) ** 2).mean() + (torch.relu(1.0 - fake) ** 2).mean())
    assert torch.isclose(lecam(real, fake), expected)
    # Then they move 1% of the way to each new batch's mean.
    lecam(torch.tensor([3.0, 3.0]), torch.tensor([1.0, 1.0]))
    assert torch.isclose(lecam.real_mean, torch.tensor(0.99 * 1.0 + 0.01 * 3.0))
    assert torch.isclose(lecam.fake_mean, torch.tensor(0.01 * 1.0))


def test_a_lecam_transfer_trains_records_it_and_never_resumes_a_checkpoint_made_without(trucks, tmp_path, capsys):
    train_gan(trucks, PARAMS, 1, tmp_path, seed=0)
    _, history = train_gan(trucks, PARAMS, 2, tmp_path, seed=0, lecam=0.3)
    assert "resuming" not in capsys.readouterr().out and len(history) == 2
    assert all(np.isfinite(h["d_loss"]) for h in history)
    assert json.loads((tmp_path / "history.json").read_text())["lecam"] == 0.3


def test_a_killed_run_resumes_to_the_same_generator(trucks, tmp_path):
    straight, straight_history = train_gan(trucks, PARAMS, 2, tmp_path / "straight", seed=0)
    train_gan(trucks, PARAMS, 1, tmp_path / "resumed", seed=0)  # as if killed after epoch 1
    resumed, resumed_history = train_gan(trucks, PARAMS, 2, tmp_path / "resumed", seed=0)
    assert [h["epoch"] for h in resumed_history] == [1, 2]
    assert resumed_history[1]["d_loss"] == straight_history[1]["d_loss"]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_sample_gives_uint8_images_of_the_asked_count(trucks, tmp_path):
    generator, _ = train_gan(trucks, PARAMS, 1, tmp_path, seed=0)
    images = sample(generator, 7, seed=0)
    assert images.shape == (7, 32, 32, 3) and images.dtype == np.uint8


def test_the_generator_learns_towards_the_data(tmp_path):
    # Reddish images: within 48 steps the generator's output must turn from tanh's grey to red-dominant.
    rng = np.random.default_rng(0)
    reds = np.clip(np.array([200, 40, 40]) + rng.normal(0, 10, (256, 32, 32, 3)), 0, 255).astype(np.uint8)
    generator, history = train_gan(reds, {**PARAMS, "batch_size": 32}, 6, tmp_path, seed=0)
    red, green, blue = sample(generator, 64, seed=0).reshape(-1, 3).mean(0)
    assert red > green + 40 and red > blue + 40


def _gan_parts(graphs=False, device="cpu"):
    torch.manual_seed(0)
    return (*make_gan(PARAMS, device, capturable=graphs), LOSSES["gan"]())


def test_the_stepper_without_graphs_is_the_eager_step(trucks):
    real = to_unit_range(trucks, "cpu")
    stepper_parts, eager_parts = _gan_parts(), _gan_parts()
    stepper = GANStepper(*stepper_parts)
    for _ in range(3):
        torch.manual_seed(1)
        stepped = stepper(real)
        torch.manual_seed(1)
        eager = gan_step(*eager_parts, real)
        assert torch.equal(stepped, eager)
    assert stepper.graph is None
    assert all(torch.equal(a, b) for a, b in zip(stepper_parts[0].parameters(), eager_parts[0].parameters()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_graph_replays_train_like_eager_steps(trucks):
    real = to_unit_range(np.concatenate([trucks] * 8), "cuda")
    parts = _gan_parts(graphs=True, device="cuda")
    before = [p.detach().clone() for p in parts[0].parameters()]
    stepper = GANStepper(*parts, graphs=True)
    stats = [stepper(batch).clone() for batch in real.split(16)] + [stepper(real[:5]).clone()]
    assert stepper.graph is not None
    assert all(torch.isfinite(s).all() for s in stats)
    assert all(not torch.equal(a, b) for a, b in zip(before, parts[0].parameters()))


def test_the_bf16_step_gpus_can_take_runs_on_the_cpu_too(trucks):
    parts = _gan_parts()
    generator = parts[0]
    before = [p.detach().clone() for p in generator.parameters()]
    stats = gan_step(*parts, to_unit_range(trucks, "cpu"), torch.bfloat16)
    assert stats.dtype == torch.float32 and torch.isfinite(stats).all()
    assert all(not torch.equal(a, b) for a, b in zip(before, generator.parameters()))


def test_a_checkpoint_past_the_asked_epochs_is_not_resumed(trucks, tmp_path, capsys):
    """Lowering the epochs must not keep the longer-trained generator."""
    train_gan(trucks, PARAMS, 2, tmp_path / "longer", seed=0)
    shorter, history = train_gan(trucks, PARAMS, 1, tmp_path / "longer", seed=0)
    assert "past the 1 asked for; starting afresh" in capsys.readouterr().out
    fresh, _ = train_gan(trucks, PARAMS, 1, tmp_path / "fresh", seed=0)
    assert [h["epoch"] for h in history] == [1]
    for a, b in zip(shorter.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b)


class _Payload:
    """Stands for code a shared checkpoint could smuggle in: unpickling it would call arbitrary code."""


def test_a_checkpoint_holding_a_pickled_object_is_refused(trucks, tmp_path):
    train_gan(trucks, PARAMS, 1, tmp_path, seed=0)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    torch.save({**state, "extra": _Payload()}, tmp_path / "checkpoint.pt")
    with pytest.raises(SmateError, match="holds pickled objects, not plain tensors, and is refused"):
        train_gan(trucks, PARAMS, 2, tmp_path, seed=0)


def test_bf16_auto_follows_the_devices_native_support(monkeypatch):
    from smate import precision

    for native in (True, False):
        monkeypatch.setattr(precision.torch.cpu, "_is_avx512_bf16_supported", lambda: native)
        monkeypatch.setattr(precision.torch.cpu, "_is_amx_tile_supported", lambda: False)
        assert precision.resolve_bf16("auto", "cpu") is native
        assert precision.resolve_bf16(not native, "cpu") is (not native)


def test_dragan_penalises_points_between_real_images_and_their_perturbations(monkeypatch):
    from smate.gan import losses

    seen = []
    monkeypatch.setattr(losses, "_gradient_penalty", lambda discriminator, points: seen.append(points) or torch.tensor(0.0))
    torch.manual_seed(0)
    real = torch.rand(64, 3, 32, 32) * 2 - 1
    losses.DRAGANLoss().discriminator_loss(torch.zeros(64, 1), torch.zeros(64, 1), None, real, real)
    # Offsets in units of the perturbation's largest size: on the segment each image has its own share of it.
    largest = ((seen[0] - real) / (0.5 * real.std())).flatten(1).amax(1)
    assert largest.max() <= 1 and largest.min() < 0.9 and largest.std() > 0.1


def test_a_diffaugment_transfer_records_it_and_never_resumes_a_checkpoint_made_without(trucks, tmp_path, capsys):
    train_gan(trucks, PARAMS, 1, tmp_path, seed=0)
    _, history = train_gan(trucks, PARAMS, 2, tmp_path, seed=0, diffaugment=True)
    assert "resuming" not in capsys.readouterr().out and len(history) == 2
    assert json.loads((tmp_path / "history.json").read_text())["diffaugment"] is True
    train_gan(trucks, PARAMS, 3, tmp_path, seed=0, diffaugment=True)
    assert "resuming from epoch 2" in capsys.readouterr().out


def _guide_classifier():
    torch.manual_seed(5)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 15 * 15, 10))
    return model, (torch.full((1, 3, 1, 1), 127.5), torch.full((1, 3, 1, 1), 64.0))


def test_the_guide_term_is_its_weight_times_the_classifiers_cross_entropy_on_the_minority():
    model, normalization = _guide_classifier()
    fakes = torch.rand(6, 3, 32, 32) * 2 - 1
    logits = model(((fakes + 1) * 127.5 - 127.5) / 64)
    expected = torch.nn.functional.cross_entropy(logits, torch.full((6,), 3))
    term, recognised = ClassifierGuide(model, normalization, 3, 2.5)(fakes)
    assert term.item() == pytest.approx(2.5 * expected.item(), rel=1e-5)
    assert recognised.item() == pytest.approx((logits.argmax(1) == 3).float().mean().item())
    assert not any(p.requires_grad for p in model.parameters())  # the classifier stays fixed


def test_smate_plus_term_moves_the_guide_classifiers_minority_rate_on_fakes(trucks, tmp_path):
    """A short run, the same seed and classifier: weight 0 only measures the rate, weight 5 trains for it."""
    last_rates = {}
    for weight in (0.0, 5.0):
        model, normalization = _guide_classifier()  # calls none of the first fakes class 3
        _, history = train_gan(trucks, PARAMS, 5, tmp_path / str(weight), seed=0,
                               guide=ClassifierGuide(model, normalization, 3, weight))
        last_rates[weight] = history[-1]["guide_minority_rate"]
    assert last_rates[0.0] < 0.2 and last_rates[5.0] > 0.8


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_a_conditional_gan_draws_and_scores_each_image_for_its_label(name):
    torch.manual_seed(0)
    generator, discriminator = build_gan({"architecture": name}, num_classes=10)
    generator.eval(), discriminator.eval()
    noise = torch.randn(2, generator.latent_dim).repeat(2, 1)
    labels = torch.tensor([1, 1, 9, 9])
    images = generator(noise, labels)
    assert images.shape == (4, 3, 32, 32) and not torch.equal(images[:2], images[2:])
    scores = discriminator(images[:2].repeat(2, 1, 1, 1), labels)
    assert scores.shape == (4, 1) and not torch.equal(scores[:2], scores[2:])


def test_a_conditional_gan_trains_on_labelled_images_and_samples_the_class_asked_for(tmp_path):
    dataset = load_dataset("imagefolder", FIXTURE)
    generator, history = train_gan(dataset.train_images[:64], PARAMS, 1, tmp_path, seed=0,
                                   labels=dataset.train_labels[:64], num_classes=10)
    assert len(history) == 1 and np.isfinite(history[0]["d_loss"])
    trucks, cars = sample(generator, 4, seed=1, label=9), sample(generator, 4, seed=1, label=1)
    assert trucks.shape == (4, 32, 32, 3) and not np.array_equal(trucks, cars)
    np.testing.assert_array_equal(trucks, sample(generator, 4, seed=1, label=9))
