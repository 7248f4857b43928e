"""classify.model resnet18: torchvision's ResNet-18 with a stem for small images, from scratch, from a state
dict the test writes, and a one-line refusal where torchvision's ImageNet weights cannot be fetched."""

import pytest
import torch
from torchvision.models import resnet18

from smate.classify import CLASSIFIERS
from smate.classify._resnet import ResNet18, pretrained_state
from smate.cli import main
from smate.config import defaults
from smate.errors import SmateError


def _recipe(**params):
    return CLASSIFIERS["resnet18"]({**defaults()["classify"]["resnet18"], **params}, 4)


@pytest.mark.parametrize("channels, side", [(3, 32), (1, 16), (3, 8), (1, 4)])
def test_small_images_keep_a_spatial_map_to_layer4(channels, side):
    model = ResNet18(4, channels, (side, side)).eval()
    x = torch.zeros(2, channels, side, side)
    assert model(x).shape == (2, 4) and model.features(x).shape == (2, 512)
    assert model.net.conv1.stride == (1, 1) and isinstance(model.net.maxpool, torch.nn.Identity)


def test_large_images_keep_torchvisions_stem():
    model = ResNet18(4, 3, (96, 96))
    assert model.net.conv1.stride == (2, 2) and isinstance(model.net.maxpool, torch.nn.MaxPool2d)


def test_a_state_dict_loads_all_but_the_classifier_and_sums_the_stem_for_gray(tmp_path):
    source = resnet18(num_classes=1000)
    path = tmp_path / "weights.pt"
    torch.save(source.state_dict(), path)
    rgb = _recipe(weights=str(path)).build(torch.zeros(1, 3, 32, 32))
    torch.testing.assert_close(rgb.net.layer3[0].conv1.weight, source.layer3[0].conv1.weight)
    torch.testing.assert_close(rgb.net.conv1.weight, source.conv1.weight)
    assert rgb.net.fc.out_features == 4
    gray = _recipe(weights=str(path)).build(torch.zeros(1, 1, 16, 16))
    torch.testing.assert_close(gray.net.conv1.weight, source.conv1.weight.sum(1, keepdim=True))
    assert not torch.equal(_recipe().build(torch.zeros(1, 3, 32, 32)).net.layer3[0].conv1.weight,
                           source.layer3[0].conv1.weight)


def test_weights_of_another_net_are_refused_in_one_line(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7), "head.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(SmateError, match="do not fit torchvision's resnet18"):
        _recipe(weights=str(path)).build(torch.zeros(1, 3, 32, 32))


def test_a_missing_weights_file_names_the_choices():
    with pytest.raises(SmateError, match="none, imagenet or the path of a state dict"):
        pretrained_state("/no/such/file.pt")


def test_imagenet_weights_that_cannot_be_fetched_say_where_to_put_them(tmp_path, monkeypatch):
    import torch.hub
    import torchvision.models._api

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)  # where WeightsEnum reads it
    with pytest.raises(SmateError, match="resnet18-f37072fd.pth .* in .*hub/checkpoints"):
        pretrained_state("imagenet")


def test_resnet18_runs_end_to_end_on_the_fixture(tmp_path):
    from tests.conftest import TINY

    assert main(["run", *TINY, "--no-report", "--set", "classify.model=resnet18", "--set", "classify.resnet18.epochs=1",
                 "--set", "classify.resnet18.batch_size=64", "--set", "methods=imbalanced,smote", "--set", "seeds=0",
                 "--workers", "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "runs" / "smote-0" / "metrics.json").is_file()
