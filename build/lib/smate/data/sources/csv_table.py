"""A CSV of path and label (and optionally split) columns, paths relative to the CSV; data.path_column,
data.label_column and data.split_column name them."""

import csv

from ...errors import SmateError
from ..dataset import SPLITS, Entry
from . import FileSource, register


@register("csv")
class CSVTable(FileSource):
    def claims(self, root):
        return root.suffix.lower() == ".csv"

    def entries(self, root):
        columns = {key: self.options.get(f"{key}_column", key) for key in ("path", "label", "split")}
        entries = _list_csv(root, columns)
        if any(e.split for e in entries) and not all(e.split for e in entries):
            raise SmateError(f"'{root}': some rows have a split and some do not; give every row train or test, or none")
        return root.parent, entries, "csv"


def _list_csv(path, columns):
    """The CSV's entries; `columns` maps path, label and split to the CSV's names for them."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise SmateError(f"cannot read the CSV '{path}' ({err}); save it as UTF-8 text with a header row") from None
    header = set(rows[0]) if rows else set()
    needed = [columns["path"], columns["label"]]
    if not set(needed) <= header:
        found = ", ".join(sorted(h for h in header if h)) or "no header"
        raise SmateError(f"the CSV '{path}' needs '{needed[0]}' and '{needed[1]}' columns (and optionally "
                         f"'{columns['split']}'); it has: {found}. Name yours with --set data.path_column=... "
                         "and --set data.label_column=...")
    entries = []
    for number, row in enumerate(rows, start=2):
        split = (row.get(columns["split"]) or "").strip().lower() or None
        if split not in (None, *SPLITS):
            raise SmateError(f"'{path}' line {number}: split {row[columns['split']]!r} must be train, test or empty")
        name, label = (row[columns["path"]] or "").strip(), (row[columns["label"]] or "").strip()
        if not name or not label:
            raise SmateError(f"'{path}' line {number}: {needed[0]} and {needed[1]} must both be given")
        if not (path.parent / name).is_file():
            raise SmateError(f"'{path}' line {number}: no image at '{path.parent / name}'; paths are relative to the CSV")
        entries.append(Entry(split, label, name))
    return entries
