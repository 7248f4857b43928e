"""Each source layout, resize mode and image mode that data.root may hold, on small images the tests write."""

import csv
import zipfile

import numpy as np
import pytest
from PIL import Image

import sys

from smate.config import build_config
from smate.data import SOURCES, detect_source, load_dataset, load_from_params, minority_ids_of
from smate.data.images import Policy, decode_files, parse_size, to_array
from smate.data.sources import Source
from smate.errors import SmateError


def _write_classes(root, sizes=((12, 10),), per_class=(6, 4), mode="RGB", split=False):
    """A class-folder set: per_class[i] images of class c{i}, of the given (width, height) sizes in turn."""
    rng = np.random.default_rng(0)
    for cls, count in enumerate(per_class):
        for i in range(count):
            width, height = sizes[i % len(sizes)]
            folder = root / (("train" if i % 3 else "test") if split else "") / f"c{cls}"
            folder.mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(folder / f"{i:03d}.png")
    return root


def test_a_folder_of_class_folders_gets_a_seeded_stratified_test_split(tmp_path):
    root = _write_classes(tmp_path / "flat", per_class=(10, 5))
    assert detect_source(root) == "imagefolder"
    first, again = load_dataset("auto", root), load_dataset("auto", root)
    assert np.bincount(first.test_labels).tolist() == [2, 1]  # a fifth of each class
    assert np.bincount(first.train_labels).tolist() == [8, 4]
    np.testing.assert_array_equal(first.test_images, again.test_images)
    assert first.source["layout"] == "classes"
    assert first.source["test_split_drawn"] == {"test_fraction": 0.2, "test_seed": 0}
    other = load_dataset("auto", root, test_seed=1)
    assert not np.array_equal(first.test_images, other.test_images)
    assert first.source["sha256"] != other.source["sha256"]


def test_a_zip_of_class_folders_matches_the_folder(tmp_path):
    root = _write_classes(tmp_path / "flat", per_class=(10, 5))
    archive = tmp_path / "flat.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(root.rglob("*.png")):
            handle.write(path, path.relative_to(root).as_posix())
    folder, zipped = load_dataset("auto", root), load_dataset("auto", archive)
    np.testing.assert_array_equal(folder.train_images, zipped.train_images)
    np.testing.assert_array_equal(folder.test_labels, zipped.test_labels)


def _write_csv(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_csv_with_a_split_column_keeps_its_split(tmp_path):
    root = _write_classes(tmp_path / "img", per_class=(6, 6))
    rows = [{"path": f"img/c{c}/{i:03d}.png", "label": f"class{c}", "split": "test" if i < 2 else "train"}
            for c in range(2) for i in range(6)]
    dataset = load_dataset("auto", _write_csv(tmp_path / "list.csv", rows))
    assert dataset.source["kind"] == "csv" and dataset.classes == ["class0", "class1"]
    assert np.bincount(dataset.test_labels).tolist() == [2, 2]
    assert dataset.source["test_split_drawn"] is None
    expected = np.asarray(Image.open(root / "c1" / "000.png"))
    np.testing.assert_array_equal(dataset.test_images[2], expected)


def test_a_csv_without_a_split_column_gets_the_drawn_split(tmp_path):
    _write_classes(tmp_path / "img", per_class=(10, 10))
    rows = [{"path": f"img/c{c}/{i:03d}.png", "label": f"c{c}"} for c in range(2) for i in range(10)]
    dataset = load_dataset("auto", _write_csv(tmp_path / "list.csv", rows), test_fraction=0.3)
    assert np.bincount(dataset.test_labels).tolist() == [3, 3]


@pytest.mark.parametrize("rows, message", [
    ([{"file": "a.png", "label": "x"}], "needs 'path' and 'label' columns"),
    ([{"path": "img/c0/000.png", "label": "x", "split": "val"}], "line 2: split 'val' must be train, test or empty"),
    ([{"path": "img/nope.png", "label": "x"}], "line 2: no image at"),
    ([{"path": "img/c0/000.png", "label": ""}], "line 2: path and label must both be given"),
])
def test_a_bad_csv_is_refused_in_one_line_naming_the_row(tmp_path, rows, message):
    _write_classes(tmp_path / "img")
    with pytest.raises(SmateError, match=message):
        load_dataset("auto", _write_csv(tmp_path / "list.csv", rows))


def test_a_class_with_one_image_cannot_be_split(tmp_path):
    root = _write_classes(tmp_path / "flat", per_class=(6, 1))
    with pytest.raises(SmateError, match="class 'c1' .* has one image"):
        load_dataset("auto", root)


def test_mixed_sizes_ask_for_data_image_size(tmp_path):
    root = _write_classes(tmp_path / "mixed", sizes=((12, 10), (20, 16)), split=True)
    with pytest.raises(SmateError, match=r"images differ in size.*set data.image_size"):
        load_dataset("auto", root)
    resized = load_dataset("auto", root, policy=Policy((8, 8)))
    assert resized.train_images.shape[1:] == (8, 8, 3)


@pytest.mark.parametrize("value, size", [(None, None), (32, (32, 32)), ("16x24", (16, 24)), ("8X8", (8, 8))])
def test_image_size_is_a_side_or_height_by_width(value, size):
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [0, -3, "big", "16x", "16x0", True, 2.5])
def test_a_bad_image_size_names_the_forms_it_takes(value):
    with pytest.raises(SmateError, match="data.image_size must be null, a side in pixels"):
        parse_size(value)


def _bar(width=40, height=20):
    """A white image with a black band down the left quarter, to see what each resize mode keeps."""
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    pixels[:, : width // 4] = 0
    return Image.fromarray(pixels)


def test_squash_keeps_everything_in_a_distorted_frame():
    pixels, _ = to_array(_bar(), Policy((10, 10), "squash"))
    assert pixels.shape == (10, 10, 3)
    assert pixels[5, 0].max() < 30 and pixels[5, -1].min() > 225  # the band is still there, narrower


def test_center_crop_cuts_the_long_side():
    pixels, _ = to_array(_bar(), Policy((10, 10), "center_crop"))
    assert pixels.shape == (10, 10, 3) and pixels.min() > 200  # the band lay outside the centre square


def test_pad_fills_the_short_side_with_black():
    pixels, _ = to_array(_bar(), Policy((10, 10), "pad"))
    assert pixels.shape == (10, 10, 3)
    assert pixels[0].max() == 0 and pixels[-1].max() == 0  # padded rows above and below
    assert pixels[5, -1].min() > 225


def test_palette_images_become_their_colours():
    image = Image.new("P", (4, 4))
    image.putpalette([0, 0, 0, 200, 30, 10] + [0] * 762)
    image.putpixel((1, 1), 1)
    pixels, gray = to_array(image, Policy())
    assert not gray and pixels.shape == (4, 4, 3) and pixels[1, 1].tolist() == [200, 30, 10]


def test_alpha_is_composited_over_black():
    image = Image.new("RGBA", (2, 1), (200, 100, 50, 255))
    image.putpixel((1, 0), (200, 100, 50, 0))
    pixels, _ = to_array(image, Policy())
    assert pixels[0, 0].tolist() == [200, 100, 50] and pixels[0, 1].tolist() == [0, 0, 0]


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    image = Image.fromarray(np.array([[0, 257 * 100, 65535]], dtype=np.uint16))
    pixels, gray = to_array(image, Policy())
    assert gray and pixels.shape == (1, 3, 1) and pixels[0, :, 0].tolist() == [0, 100, 255]


def test_channels_auto_gives_one_channel_only_when_every_image_is_grayscale(tmp_path):
    gray = _write_classes(tmp_path / "gray", mode="L", split=True)
    assert load_dataset("auto", gray).train_images.shape[-1] == 1
    assert load_dataset("auto", gray, policy=Policy(channels=3)).train_images.shape[-1] == 3
    colour = _write_classes(tmp_path / "colour", split=True)
    assert load_dataset("auto", colour, policy=Policy(channels=1)).train_images.shape[-1] == 1
    Image.new("RGB", (12, 10), (255, 0, 0)).save(gray / "train" / "c0" / "999.png")
    assert load_dataset("auto", gray).train_images.shape[-1] == 3


def test_decoding_on_two_workers_matches_one(tmp_path, monkeypatch):
    import smate.data.images as images

    root = _write_classes(tmp_path / "many", per_class=(30, 30))
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    monkeypatch.setattr(images, "PARALLEL_FROM", 1)
    monkeypatch.setattr(images, "CHUNK", 7)
    parallel, parallel_sums = decode_files(root, names, Policy((6, 6)), workers=2)
    serial, serial_sums = decode_files(root, names, Policy((6, 6)), workers=1)
    np.testing.assert_array_equal(parallel, serial)
    assert parallel_sums == serial_sums


def test_a_corrupt_file_is_named(tmp_path):
    root = _write_classes(tmp_path / "bad", split=True)
    (root / "train" / "c0" / "001.png").write_bytes(b"not a png")
    with pytest.raises(SmateError, match=r"cannot decode image .*001.png"):
        load_dataset("auto", root)


def test_minority_auto_names_the_classes_under_a_fifth_of_the_largest():
    labels = np.array([0] * 100 + [1] * 19 + [2] * 20 + [3] * 5)
    assert minority_ids_of(["a", "b", "c", "d"], labels, ["auto"]) == [1, 3]
    assert minority_ids_of(["a", "b"], np.array([0] * 10 + [1] * 9), ["auto"]) == [1]
    assert minority_ids_of(["a", "b"], np.array([0, 1]), ["b"]) == [1]


def test_every_file_counts_in_the_source_digest(tmp_path, monkeypatch):
    import smate.data.images

    monkeypatch.setattr(smate.data.images, "CHUNK", 4)  # several chunks, so an early one's file is not the last
    root = _write_classes(tmp_path / "flat", per_class=(10, 5))
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    policy = Policy.from_params({"image_size": None, "resize": "squash", "channels": "auto"})
    _, sums = decode_files(root, names, policy, workers=1)
    assert len(sums) == len(names)
    before = load_dataset("auto", root).source["sha256"]
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(root / names[0])
    assert load_dataset("auto", root).source["sha256"] != before


@pytest.mark.parametrize("name", list(SOURCES))
def test_every_source_is_a_documented_reader_that_the_params_take(name):
    cls = SOURCES[name]
    assert issubclass(cls, Source) and cls.name == name and sys.modules[cls.__module__].__doc__
    assert build_config(overrides=[f"data.source={name}"])["data"]["source"] == name
    assert sum(SOURCES[other].fallback for other in SOURCES) == 1  # what auto reads a root no source claims as


def test_an_unknown_source_is_refused_naming_every_registered_one():
    with pytest.raises(SmateError, match=f"data.source must be one of auto, {', '.join(SOURCES)}, got 'parquet'"):
        build_config(overrides=["data.source=parquet"])


def test_auto_reads_each_root_as_the_source_that_claims_it(tmp_path):
    classes = _write_classes(tmp_path / "classes")
    (tmp_path / "images.csv").write_text("path,label\n")
    (tmp_path / "batches" / "cifar-10-batches-py").mkdir(parents=True)
    (tmp_path / "empty").mkdir()
    found = {root.name: detect_source(root) for root in (classes, tmp_path / "images.csv", tmp_path / "batches", tmp_path / "empty")}
    assert found == {"classes": "imagefolder", "images.csv": "csv", "batches": "cifar10", "empty": "cifar10"}


def _litter(root):
    """What real folders carry besides images: system files, notes, uppercase extensions, a subfolder of a class."""
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "c0" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "c1" / "README.txt").write_text("faces of c1\n")
    (root / "c1" / ".hidden").mkdir()
    Image.new("RGB", (12, 10)).save(root / "c1" / ".hidden" / "copy.png")
    nested = root / "c1" / "more" / "deeper"
    nested.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((10, 12, 3), 40 * i, np.uint8)).save(nested / f"extra{i}.PNG")


def test_images_in_subfolders_of_a_class_count_for_it_and_the_rest_is_skipped_in_one_line(tmp_path, capsys):
    root = _write_classes(tmp_path / "faces", per_class=(10, 5))
    _litter(root)
    dataset = load_dataset("auto", root)
    # As torchvision's ImageFolder counts them: c1's 5 images and the 3 in its subfolders; the hidden folder is not read.
    assert np.bincount(np.concatenate([dataset.train_labels, dataset.test_labels])).tolist() == [10, 8]
    lines = [line for line in capsys.readouterr().out.splitlines() if "skipped" in line]
    assert lines == [f"imagefolder: skipped 2 files that are not images in '{root}' (1 .db, 1 .txt)"]
    # A zip of the same folder reads the same images.
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                handle.write(path, "faces/" + path.relative_to(root).as_posix())
    zipped = load_dataset("auto", archive)
    np.testing.assert_array_equal(np.sort(zipped.train_labels), np.sort(dataset.train_labels))
    np.testing.assert_array_equal(zipped.train_images.sum(axis=(1, 2, 3)), dataset.train_images.sum(axis=(1, 2, 3)))


def test_a_csv_names_its_columns_and_one_without_them_lists_what_it_found(tmp_path):
    _write_classes(tmp_path / "img", per_class=(6, 4))
    rows = [{"filename": p.relative_to(tmp_path).as_posix(), "class": p.parent.name}
            for p in sorted((tmp_path / "img").rglob("*.png"))]
    table = _write_csv(tmp_path / "list.csv", rows)
    with pytest.raises(SmateError, match="needs 'path' and 'label' columns .* it has: class, filename. Name yours with "
                                         "--set data.path_column"):
        load_dataset("auto", table)
    config = build_config(preset="tiny", overrides=[f"data.root={table}", "data.path_column=filename",
                                                    "data.label_column=class"])
    dataset = load_from_params(config["data"])
    assert len(dataset.train_labels) + len(dataset.test_labels) == 10 and dataset.source["kind"] == "csv"


def test_data_root_decides_the_source_and_a_contradicting_one_is_named(tmp_path):
    root = _write_classes(tmp_path / "img", per_class=(6, 4))
    table = _write_csv(tmp_path / "list.csv", [{"path": p.relative_to(tmp_path).as_posix(), "label": p.parent.name}
                                                for p in sorted(root.rglob("*.png"))])
    # The presets leave data.source at auto: a CSV root with the tiny preset is read as a CSV.
    assert build_config(preset="tiny")["data"]["source"] == "auto"
    assert load_from_params(build_config(preset="tiny", overrides=[f"data.root={table}"])["data"]).source["kind"] == "csv"
    with pytest.raises(SmateError, match=f"data.source is imagefolder but data.root '{table}' holds csv data; set "
                                         "data.source=csv, or auto"):
        load_dataset("imagefolder", table)
    with pytest.raises(SmateError, match="data.source is csv but data.root .* holds imagefolder data"):
        load_dataset("csv", root)


def test_one_class_or_an_empty_class_folder_stops_at_prepare_in_one_line(tmp_path):
    root = _write_classes(tmp_path / "one", per_class=(6,))
    with pytest.raises(SmateError, match="has one class, 'c0'; a classifier and a rebalancing need two or more"):
        load_dataset("auto", root)
    root = _write_classes(tmp_path / "empty", per_class=(6, 4))
    (root / "truck").mkdir()
    with pytest.raises(SmateError, match="the class folder 'truck' in .* has no images; add images to it or remove it"):
        load_dataset("auto", root)
