"""An ImageFolder, as a folder or a .zip: train/<class>/ and test/<class>/, or <class>/ alone, which gets a seeded
stratified test split."""

import zipfile
from pathlib import PurePosixPath

from ...errors import SmateError
from ..dataset import IMAGE_SUFFIXES, SPLITS, Entry
from . import FileSource, register
from .cifar10 import CIFAR_DIR


@register("imagefolder")
class ImageFolder(FileSource):
    def claims(self, root):
        if root.suffix.lower() == ".zip" or (root / "train").is_dir():
            return True
        return root.is_dir() and not (root / CIFAR_DIR).is_dir() and any(_images_in(sub) for sub in root.iterdir() if sub.is_dir())

    def entries(self, root):
        entries = _list_zip(root) if root.suffix.lower() == ".zip" else _list_folder(root)
        return root, entries, "train/test" if any(e.split for e in entries) else "classes"


def _images_in(folder):
    return any(path.suffix.lower() in IMAGE_SUFFIXES for path in folder.iterdir())


def _list_folder(root):
    """train/<class>/<file> and test/<class>/<file> entries, or <class>/<file> ones with no split."""
    split_layout = any((root / split).is_dir() for split in SPLITS)
    pattern = [(split, root / split) for split in SPLITS if (root / split).is_dir()] if split_layout else [(None, root)]
    found = []
    for split, folder in pattern:
        for path in sorted(folder.glob("*/*")):
            if path.suffix.lower() in IMAGE_SUFFIXES and path.parent.name != CIFAR_DIR:
                found.append(Entry(split, path.parent.name, path.relative_to(root).as_posix()))
    return found


def _list_zip(root):
    try:
        with zipfile.ZipFile(root) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/"))
    except (zipfile.BadZipFile, OSError) as err:
        raise SmateError(f"'{root}' is not a readable .zip ({err}); re-create it or unpack it and point data.root at the folder") from None
    names = [n for n in names if PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES and "__MACOSX" not in n]
    prefix = _zip_prefix(names)
    found = []
    for name in names:
        parts = PurePosixPath(name[len(prefix or ""):]).parts
        if prefix is not None and len(parts) == 3 and parts[0] in SPLITS:
            found.append(Entry(parts[0], parts[1], name))
        elif prefix is None and len(parts) >= 2:
            found.append(Entry(None, parts[-2], name))
    return found


def _zip_prefix(names):
    """Zips often wrap everything in one top folder (data.zip -> cifar10/train/...); find it, or None
    when the zip has no train/ folder (<class>/<file> with no split)."""
    for name in names:
        parts = PurePosixPath(name).parts
        if "train" in parts[:-2]:
            return "/".join(parts[: parts.index("train")]) + ("/" if parts.index("train") else "")
    return None
