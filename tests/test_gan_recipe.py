"""The GAN recipe's parts: G's moving average, R1, D's own learning rate, DiffAugment in the pretraining,
and the collapse signal that flags a generator drawing one pattern."""

import copy
import json

import numpy as np
import pytest
import torch
from torch.optim.swa_utils import update_bn

from smate.config import build_config, defaults
from smate.data import load_dataset
from smate.errors import SmateError
from smate.gan import train_gan
from smate.gan.collapse import MARGIN, collapsed, mean_pairwise_ssim
from smate.gan.losses import r1_penalty
from smate.gan.models import BrownleeGenerator, freeze_first
from smate.gan.train import BATCHNORM_BATCHES, make_gan, recompute_batchnorm, to_unit_range

from conftest import FIXTURE

PARAMS = {**defaults()["gan"]["train"], "architecture": "dcgan_sn", "loss": "hinge", "batch_size": 16, "bf16": False,
          "sample_every": 1, "checkpoint_every": 1}


@pytest.fixture(scope="module")
def fixture_set():
    return load_dataset("imagefolder", FIXTURE)


@pytest.fixture(scope="module")
def trucks(fixture_set):
    return fixture_set.train_images[fixture_set.train_labels == 9][:16]


def test_real_images_are_far_less_alike_than_one_pattern_in_many_colours(fixture_set):
    real = to_unit_range(fixture_set.train_images[:32], "cpu")
    pattern = real[:1].mean(1, keepdim=True).repeat(32, 3, 1, 1)
    # What pixel distances miss: the same pattern, each copy in its own brightness and tint.
    tinted = (pattern * torch.rand(32, 1, 1, 1) + torch.rand(32, 3, 1, 1) - 0.5).clamp(-1, 1)
    real_similarity = mean_pairwise_ssim(real)
    assert real_similarity < 0.2
    assert mean_pairwise_ssim(pattern) == pytest.approx(1.0, abs=1e-4)
    assert collapsed(mean_pairwise_ssim(tinted), real_similarity)
    assert not collapsed(real_similarity, mean_pairwise_ssim(to_unit_range(fixture_set.test_images[:32], "cpu")))


def test_large_images_are_scored_shrunk_and_grey_ones_as_they_are():
    torch.manual_seed(0)
    noise = torch.rand(8, 1, 128, 96) * 2 - 1
    assert 0 <= mean_pairwise_ssim(noise) < 0.2
    assert mean_pairwise_ssim(noise[:1].repeat(8, 1, 1, 1)) == pytest.approx(1.0, abs=1e-4)


def test_a_deliberately_collapsed_generator_is_flagged_in_its_history_and_log(trucks, tmp_path, capsys):
    # G's noise weights at zero and no learning: every sample is the same image.
    generator, discriminator = make_gan(PARAMS)[:2]
    state = generator.state_dict()
    state["0.weight"].zero_()
    init = {"generator": state, "discriminator": discriminator.state_dict()}
    _, history = train_gan(trucks, {**PARAMS, "lr": 0.0}, 2, tmp_path / "collapsed", seed=0, init=init, label="broken")
    record = json.loads((tmp_path / "collapsed" / "history.json").read_text())
    assert [h["sample_ssim"] for h in history] == pytest.approx([1.0, 1.0], abs=1e-3)
    assert record["real_ssim"] < 0.3 and record["history"][-1]["sample_ssim"] == history[-1]["sample_ssim"]
    assert "warning: broken's generator has collapsed" in capsys.readouterr().out


def test_with_ema_generator_pt_holds_the_average_and_a_killed_run_resumes_to_it(trucks, tmp_path):
    params = {**PARAMS, "ema": 0.9}
    straight, _ = train_gan(trucks, params, 2, tmp_path / "straight", seed=0)
    state = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)
    saved = torch.load(tmp_path / "straight" / "generator.pt", weights_only=True)
    raw = state["generator"]
    assert any(not torch.equal(saved[k], raw[k]) for k in raw)  # the average, not G's last weights
    assert all(torch.equal(saved[k], straight.state_dict()[k]) for k in saved)
    assert json.loads((tmp_path / "straight" / "history.json").read_text())["ema"] == 0.9

    train_gan(trucks, params, 1, tmp_path / "resumed", seed=0)
    resumed, _ = train_gan(trucks, params, 2, tmp_path / "resumed", seed=0)
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))


def test_ema_warms_up_then_keeps_its_decay_of_the_average():
    from smate.gan.train import make_ema

    generator = BrownleeGenerator()
    ema = make_ema(generator, 0.9)
    ema.update_parameters(generator)  # the first update copies G
    assert all(torch.equal(a, b) for a, b in zip(ema.module.parameters(), generator.parameters()))
    for count in range(1, 40):
        with torch.no_grad():
            for parameter in generator.parameters():
                parameter.add_(1.0)
        gaps = [(g - a).detach().clone() for g, a in zip(generator.parameters(), ema.module.parameters())]
        before = [a.detach().clone() for a in ema.module.parameters()]
        ema.update_parameters(generator)
        kept = min(0.9, (1 + count) / (10 + count))
        assert all(torch.allclose(a - b, gap * (1 - kept), atol=1e-4)
                   for a, b, gap in zip(ema.module.parameters(), before, gaps))
    assert make_ema(generator, 0.0) is None


def test_r1_is_the_mean_squared_gradient_norm_at_the_real_images():
    weights = torch.randn(3 * 4 * 4)
    linear = lambda images: images.flatten(1) @ weights[:, None]  # noqa: E731 (its gradient is w everywhere)
    real = torch.randn(5, 3, 4, 4)
    assert r1_penalty(linear, real).item() == pytest.approx(weights.square().sum().item(), rel=1e-5)
    # It is D's loss: its gradient reaches D's weights.
    layer = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 1))
    r1_penalty(layer, real).backward()
    assert layer[1].weight.grad.abs().sum() > 0


def test_r1_changes_the_discriminator_step_and_lr_d_sets_ds_learning_rate(trucks):
    from smate.gan import LOSSES
    from smate.gan.step import gan_step

    real = to_unit_range(trucks, "cpu")
    after = {}
    for r1 in (0.0, 10.0):
        torch.manual_seed(0)
        generator, discriminator, opt_g, opt_d = make_gan(PARAMS)
        torch.manual_seed(1)
        gan_step(generator, discriminator, opt_g, opt_d, LOSSES["hinge"](), real, r1=r1)
        after[r1] = [p.detach().clone() for p in discriminator.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(after[0.0], after[10.0]))

    _, _, opt_g, opt_d = make_gan({**PARAMS, "lr": 1e-4, "lr_d": 4e-4})
    assert opt_g.param_groups[0]["lr"] == 1e-4 and opt_d.param_groups[0]["lr"] == 4e-4
    _, _, opt_g, opt_d = make_gan({**PARAMS, "beta1": 0.0, "beta2": 0.99})
    assert opt_d.param_groups[0]["lr"] == PARAMS["lr"] and opt_g.param_groups[0]["betas"] == (0.0, 0.99)


@pytest.mark.parametrize("override, message", [
    ("gan.train.ema=1.0", "gan.train.ema must be a decay in"),
    ("gan.train.r1=-1", "gan.train.r1 must be 0"),
    ("gan.train.lr_d=0", "gan.train.lr_d must be a positive"),
])
def test_recipe_settings_out_of_range_stop_in_one_line(override, message):
    with pytest.raises(SmateError, match=message):
        build_config(preset="tiny", overrides=[override])


def test_pretraining_runs_diffaugment_when_asked(tmp_path, monkeypatch):
    from smate.pipeline import gan_stages

    seen = {}
    monkeypatch.setattr(gan_stages, "load_imbalanced", lambda out, config, seed: (None, np.zeros((4, 8, 8, 3), np.uint8),
                                                                     np.array([0, 0, 1, 1]), [1]))
    monkeypatch.setattr(gan_stages, "train_gan", lambda images, *a, **k: seen.update(k, n=len(images)) or (None, []))
    config = build_config(preset="tiny", overrides=["gan.pretrain.diffaugment=true"])
    gan_stages.pretrain_gan(config, tmp_path, 0, progress=False)
    assert seen["diffaugment"] is True and seen["n"] == 2


def test_a_time_budget_ends_training_after_the_epoch_that_spends_it(trucks, tmp_path):
    _, short = train_gan(trucks, PARAMS, 3, tmp_path / "short", seed=0, time_budget=1e-6)
    _, ample = train_gan(trucks, PARAMS, 3, tmp_path / "ample", seed=0, time_budget=3600)
    assert len(short) == 1 and len(ample) == 3
    assert (tmp_path / "short" / "samples" / "epoch_0001.png").is_file()


def _noise_batches(generator, batch_size, seed):
    draw = torch.Generator().manual_seed(seed)
    return [torch.randn(batch_size, generator.latent_dim, generator=draw) for _ in range(BATCHNORM_BATCHES)]


def test_recomputed_batchnorm_statistics_are_those_of_the_generators_own_samples():
    torch.manual_seed(0)
    generator = make_gan({**PARAMS, "architecture": "sngan_cnn"})[0]
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    recomputed = recompute_batchnorm(generator, 16, seed=3)
    # The same as torch's own update_bn over the same batches of noise, where no BatchNorm is frozen.
    expected = copy.deepcopy(generator)
    update_bn(_noise_batches(generator, 16, 3), expected)
    for name, value in expected.state_dict().items():
        assert torch.allclose(recomputed.state_dict()[name], value, atol=1e-5), name
    assert any(not torch.equal(recomputed.state_dict()[k], before[k]) for k in before if "running" in k)
    assert all(torch.equal(v, before[k]) for k, v in generator.state_dict().items())  # a copy: G is untouched
    assert not recomputed.training


def test_a_transfers_frozen_batchnorm_keeps_its_statistics_when_the_rest_are_recomputed():
    generator = freeze_first(make_gan({**PARAMS, "architecture": "sngan_cnn"})[0], 6)
    norms = [name for name, module in generator.named_modules() if isinstance(module, torch.nn.BatchNorm2d)]
    recomputed = recompute_batchnorm(generator, 16, seed=0).state_dict()
    original = generator.state_dict()
    assert [torch.equal(recomputed[f"{n}.running_mean"], original[f"{n}.running_mean"]) for n in norms] == [True, True, False]


@pytest.mark.parametrize("ema_batchnorm", ["recompute", "average"])
def test_the_ema_generator_saved_has_the_batchnorm_statistics_asked_for(trucks, tmp_path, ema_batchnorm):
    params = {**PARAMS, "ema": 0.9, "ema_batchnorm": ema_batchnorm}
    generator, _ = train_gan(trucks, params, 2, tmp_path, seed=0)
    saved = torch.load(tmp_path / "generator.pt", weights_only=True)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["ema"]
    averaged = {k.removeprefix("module."): v for k, v in state.items() if k.startswith("module.")}
    running = [k for k in saved if "running_" in k]
    weights = [k for k in saved if k not in running and "num_batches" not in k]
    assert all(torch.equal(saved[k], averaged[k]) for k in weights)  # the weights are the average either way
    same_statistics = all(torch.equal(saved[k], averaged[k]) for k in running)
    assert same_statistics == (ema_batchnorm == "average")
    assert all(torch.equal(saved[k], generator.state_dict()[k]) for k in saved)


def test_unknown_ema_batchnorm_and_fill_are_refused_in_one_line():
    with pytest.raises(SmateError, match="gan.train.ema_batchnorm must be recompute or average"):
        build_config(preset="tiny", overrides=["gan.train.ema_batchnorm=mean"])
    with pytest.raises(SmateError, match="gan.transfer.fill must be one of constant, reflect"):
        build_config(preset="tiny", overrides=["gan.transfer.fill=black"])


@pytest.mark.parametrize("override, message", [("gan.transfer.freeze_d=-1", "gan.transfer.freeze_d must be a number"),
                                               ("gan.transfer.freeze_d=2.5", "gan.transfer.freeze_d. must be int"),
                                               ("gan.transfer.lecam=-0.3", "gan.transfer.lecam must be 0 .off. or a positive")])
def test_bad_freezed_and_lecam_settings_are_refused_in_one_line(override, message):
    with pytest.raises(SmateError, match=message):
        build_config(preset="tiny", overrides=[override])
