"""Compare two summary.csv files cell by cell, wall times aside; exit 1 and print each difference."""

import csv
import sys


def _rows(path):
    with open(path, newline="") as handle:
        return {row["method"]: row for row in csv.DictReader(handle)}


def differences(host_csv, image_csv):
    """Every cell where the two runs disagree, as readable lines; columns of seconds vary by nature and are left out."""
    host, image = _rows(host_csv), _rows(image_csv)
    lines = [f"method {name}: only in the host's run" for name in sorted(host.keys() - image.keys())]
    lines += [f"method {name}: only in the image's run" for name in sorted(image.keys() - host.keys())]
    for name in sorted(host.keys() & image.keys()):
        for column, value in host[name].items():
            if "seconds" not in column and image[name].get(column) != value:
                lines.append(f"{name}.{column}: host {value}, image {image[name].get(column)}")
    return lines


def main(host_csv, image_csv):
    lines = differences(host_csv, image_csv)
    for line in lines:
        print(line)
    rows = len(_rows(host_csv))
    print(f"summaries {'differ in ' + str(len(lines)) + ' cells' if lines else f'identical: {rows} methods'}"
          " (columns of seconds left out)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
