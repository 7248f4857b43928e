"""Regression: the tiny preset's summary table against a committed golden file.

Seeded CPU runs repeat bit for bit on one machine; the tolerance covers other CPUs, where
floating-point differences can flip a few of the 100 test predictions. A real change in results
fails with a table of what moved. To accept new results on purpose:

    SMATE_ACCEPT_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

then commit the golden file with a message that says why the numbers moved. A new method's rows, in every
vendor's golden file (each vendor's run re-accepts its own later), with the rows already there left as they are:

    SMATE_ACCEPT_GOLDEN=new .venv/bin/python -m pytest tests/test_golden.py

SAMME, whose rounds resample by the last round's errors, moved its spread over the two seeds by
0.06 between our AMD EPYC and Intel Xeon CPUs at fp32 (one flipped train prediction redraws a
round), so each CPU vendor that ran CI keeps its own golden file, accepted on that vendor.
"""

import csv
import os
import shutil
from pathlib import Path

import pytest
from tabulate import tabulate


def cpu_vendor():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


GOLDEN_DIR = Path(__file__).parent / "golden"
VENDOR = cpu_vendor()
# The first golden file was made on AMD; another vendor's, once accepted there, is tiny_summary-<vendor>.csv.
OWN = GOLDEN_DIR / ("tiny_summary.csv" if VENDOR == "AuthenticAMD" else f"tiny_summary-{VENDOR}.csv")
GOLDEN = OWN if OWN.is_file() else GOLDEN_DIR / "tiny_summary.csv"
# 0.05 = 5 of the 100 test images, or one of the 10 test trucks in one of the two seeds.
ATOL = 0.05
SKIPPED = {"method", "seeds", "n_seeds", "train_seconds_mean"}


def read(path):
    with open(path) as handle:
        return {row["method"]: row for row in csv.DictReader(handle)}


def add_new_rows(produced, golden_path):
    """`golden_path` with the rows of the methods it lacks taken from `produced`; the methods it has keep theirs."""
    golden, actual = read(golden_path), read(produced)
    with open(produced) as handle:
        columns = next(csv.reader(handle))
    rows = [*golden.values(), *(row for method, row in actual.items() if method not in golden)]
    with open(golden_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return [method for method in actual if method not in golden]


def test_tiny_summary_matches_the_golden_file(tiny_run):
    produced = tiny_run / "summary.csv"
    if os.environ.get("SMATE_ACCEPT_GOLDEN") == "new":
        added = {path.name: add_new_rows(produced, path) for path in sorted(GOLDEN_DIR.glob("tiny_summary*.csv"))}
        pytest.skip(f"added rows {added}; review and commit them")
    if os.environ.get("SMATE_ACCEPT_GOLDEN"):
        shutil.copy(produced, OWN)
        pytest.skip(f"wrote {OWN}; review and commit it")
    golden, actual = read(GOLDEN), read(produced)
    # The rows' order is the params' (methods: [all]), not a result.
    assert sorted(actual) == sorted(golden), ("the methods in the table changed; a new method's rows come from "
                                              f"SMATE_ACCEPT_GOLDEN=new (see {Path(__file__).name})")
    moved = []
    for method, row in golden.items():
        assert actual[method]["n_seeds"] == row["n_seeds"] and actual[method]["seeds"] == row["seeds"]
        for column in row.keys() - SKIPPED:
            expected, got = float(row[column]), float(actual[method][column])
            if abs(got - expected) > ATOL:
                moved.append([method, column, f"{expected:.4f}", f"{got:.4f}", f"{got - expected:+.4f}"])
    assert not moved, (f"results moved by more than {ATOL} (accept on purpose with SMATE_ACCEPT_GOLDEN=1, see "
                       f"{Path(__file__).name}):\n" + tabulate(moved, headers=["method", "column", "golden", "now", "change"]))


def test_a_new_methods_rows_join_a_golden_file_and_leave_its_rows_as_they_are(tmp_path):
    produced, golden = tmp_path / "summary.csv", tmp_path / "tiny_summary.csv"
    produced.write_text("method,n_seeds,accuracy_mean\nfull,2,0.5\nsmote,2,0.4\nnew_method,2,0.3\n")
    golden.write_text("method,n_seeds,accuracy_mean\nsmote,2,0.41\nfull,2,0.52\n")
    assert add_new_rows(produced, golden) == ["new_method"]
    assert golden.read_text() == "method,n_seeds,accuracy_mean\nsmote,2,0.41\nfull,2,0.52\nnew_method,2,0.3\n"
