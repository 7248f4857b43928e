"""A CSV of `path` and `label` (and optionally `split`) columns, paths relative to the CSV."""

import csv

from ...errors import SmateError
from ..dataset import SPLITS, Entry
from . import FileSource, register


@register("csv")
class CSVTable(FileSource):
    def claims(self, root):
        return root.suffix.lower() == ".csv"

    def entries(self, root):
        entries = _list_csv(root)
        if any(e.split for e in entries) and not all(e.split for e in entries):
            raise SmateError(f"'{root}': some rows have a split and some do not; give every row train or test, or none")
        return root.parent, entries, "csv"


def _list_csv(path):
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SmateError(f"cannot read the CSV '{path}' ({err}); save it as UTF-8 text with a header row") from None
    header = set(rows[0]) if rows else set()
    if not {"path", "label"} <= header:
        raise SmateError(f"the CSV '{path}' needs 'path' and 'label' columns (and optionally 'split'); it has: "
                         f"{', '.join(sorted(h for h in header if h)) or 'no header'}")
    entries = []
    for number, row in enumerate(rows, start=2):
        split = (row.get("split") or "").strip().lower() or None
        if split not in (None, *SPLITS):
            raise SmateError(f"'{path}' line {number}: split {row['split']!r} must be train, test or empty")
        name, label = (row["path"] or "").strip(), (row["label"] or "").strip()
        if not name or not label:
            raise SmateError(f"'{path}' line {number}: path and label must both be given")
        if not (path.parent / name).is_file():
            raise SmateError(f"'{path}' line {number}: no image at '{path.parent / name}'; paths are relative to the CSV")
        entries.append(Entry(split, label, name))
    return entries
