"""The data sources: each a registered reader of one kind of image set, one module in this package. `data.source`
names one, or `auto` lets each say whether a root is its kind (the fallback, CIFAR-10, downloads one)."""

from pathlib import Path

from ...errors import SmateError
from ...registry import Registry
from ..dataset import check_consistent, load_files
from ..images import Policy

SOURCES = Registry("data source", package="smate.data.sources")
register = SOURCES.register


class Source:
    """Reads `root` into a Dataset (smate/data/dataset.py). `limits` is {"train": n or None, "test": n or None},
    the first images a class keeps in each split; a source whose sets have no test split draws one of
    `test_fraction` of each class with `test_seed`. `options` are the data params of the source's own (a CSV's
    column names)."""

    name = None
    fallback = False  # what `auto` reads a root as when no other source claims it

    def __init__(self, options=None):
        self.options = options or {}

    def claims(self, root):
        """Whether `root` looks like this source's kind of image set."""
        return False

    def load(self, root, limits, progress, policy, test_fraction, test_seed):
        raise NotImplementedError


def detect_source(root):
    """The name of the source that claims `root`, else the fallback's."""
    sources = [SOURCES[name]() for name in SOURCES]
    return next((s.name for s in sources if not s.fallback and s.claims(root)), next(s.name for s in sources if s.fallback))


def load_dataset(source, root, max_train_per_class=None, max_test_per_class=None, progress=False, policy=Policy(),
                 test_fraction=0.2, test_seed=0, options=None):
    """Load `root` as `source` ('auto' finds it) under the image `policy` (smate/data/images.py)."""
    root = Path(root)
    found = detect_source(root)
    name = found if source == "auto" else source
    reader = SOURCES.pick(name, "data.source")(options)
    if not reader.claims(root) and not SOURCES[found].fallback:
        raise SmateError(f"data.source is {name} but data.root '{root}' holds {found} data; set data.source={found}, "
                         "or auto to let the root decide")
    limits = {"train": max_train_per_class, "test": max_test_per_class}
    dataset = reader.load(root, limits, progress, policy, test_fraction, test_seed)
    check_consistent(dataset)
    return dataset


# The data params a source reads besides the shared ones, with the names its options take.
SOURCE_OPTIONS = ("path_column", "label_column", "split_column")


def load_from_params(data, progress=False):
    """load_dataset with the data params."""
    return load_dataset(data["source"], data["root"], data["max_train_per_class"], data["max_test_per_class"], progress,
                        Policy.from_params(data), data["test_fraction"], data["test_seed"],
                        {key: data[key] for key in SOURCE_OPTIONS})


class FileSource(Source):
    """A source of image files: it lists them (`entries`), and the shared steps draw a test split where there is
    none, check the classes, decode the files and hash what was read (smate/data/dataset.py)."""

    def entries(self, root):
        """(the folder the entries' names are relative to, [Entry], the layout's name)."""
        raise NotImplementedError

    def load(self, root, limits, progress, policy, test_fraction, test_seed):
        if not root.exists():
            raise SmateError(f"data.root '{root}' does not exist; point it at an image folder or .zip, or a CSV of path,label")
        base, entries, layout = self.entries(root)
        return load_files(self.name, root, base, entries, layout, limits, progress, policy, test_fraction, test_seed)
