"""The findings pages (results/README.md): Jinja templates whose numbers are read from the committed results
folders when the page is rendered, so that no number in them is typed by hand and none drifts from its files.
`smate-bench findings` renders them; `--check` says which committed page differs from its rendering."""

import csv
import itertools
import json
import re
from functools import cached_property
from pathlib import Path

import jinja2
import numpy as np

from .. import atomic
from ..errors import SmateError
from .records import load_runs
from .stage_times import stage_seconds

# Each findings page and the template it is rendered from, relative to the project's root.
PAGES = {Path("results/README.md"): Path("results/README.md.j2")}
# Pages that hold more than findings, and the template of the part between their two markers.
BLOCKS = {Path("README.md"): Path("results/brief.md.j2")}
BLOCK_START, BLOCK_END = "<!-- findings: rendered from {template} by smate-bench findings -->\n", "<!-- end of findings -->\n"
RESULTS = Path("results")


class Folder:
    """A committed results folder as a template reads it, and its sub-folders by name: `results["budget-cpu"]["epochs-100"]`."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SmateError(f"findings: no results folder '{self.path}'; a template names a folder that is not committed")

    def __getitem__(self, name):
        return Folder(self.path / name)

    def __repr__(self):
        return f"Folder({str(self.path)!r})"

    def json(self, name):
        """A JSON file of the folder (recipes.json, sweep.json, gan/smate/quality.json, ...)."""
        return json.loads(self._file(name).read_text())

    def text(self, name):
        return self._file(name).read_text()

    def _file(self, name):
        path = self.path / name
        if not path.is_file():
            raise SmateError(f"findings: '{path}' is not committed; a template reads it")
        return path

    def line(self, name, start):
        """The first line of a text file (a report) that starts with `start`."""
        found = [line for line in self.text(name).splitlines() if line.startswith(start)]
        if not found:
            raise SmateError(f"findings: no line starting {start!r} in '{self.path / name}'")
        return found[0]

    def table(self, name, header_start):
        """The rows of the Markdown table in a report whose header starts with `header_start`, as dicts by header."""
        lines = self.text(name).splitlines()
        starts = [index for index, line in enumerate(lines) if line.startswith(header_start)]
        if not starts:
            raise SmateError(f"findings: no table headed {header_start!r} in '{self.path / name}'")
        block = list(itertools.takewhile(lambda line: line.startswith("|"), lines[starts[0]:]))
        cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in block]
        return [dict(zip(cells[0], row)) for row in cells[2:]]

    @cached_property
    def summary(self):
        """{method: its summary.csv row}, numbers as floats."""
        with open(self._file("summary.csv"), newline="") as handle:
            return {row["method"]: {key: _number(value) for key, value in row.items()} for row in csv.DictReader(handle)}

    def mean(self, method, metric):
        """The mean over the summary's seeds of `method`, from the runs themselves (summary.csv rounds to 6 places)."""
        return float(np.mean(self._values(method, metric)))

    def std(self, method, metric):
        return float(np.std(self._values(method, metric), ddof=1))

    def _values(self, method, metric):
        if method not in self.summary:
            raise SmateError(f"findings: {method} has no row in '{self.path / 'summary.csv'}'")
        seeds = {int(seed) for seed in str(self.summary[method]["seeds"]).split()}
        values = [run[metric] for run in self.runs if run["method"] == method and run["seed"] in seeds]
        if len(values) != len(seeds):
            raise SmateError(f"findings: '{self.path}' has {len(values)} runs of {method} for its summary's {len(seeds)} seeds")
        return values

    def methods_by(self, metric, descending=True):
        """The summary's methods, best first by `metric`'s mean."""
        return sorted(self.summary, key=lambda method: self.mean(method, metric), reverse=descending)

    @cached_property
    def claims(self):
        """{claim id: its report/claims.csv row}, numbers as floats (one classifier's: the first the file lists)."""
        with open(self._file("report/claims.csv"), newline="") as handle:
            rows = list(csv.DictReader(handle))
        first = rows[0]["classifier"] if rows else None
        return {row["id"]: {key: _number(value) for key, value in row.items()} for row in rows if row["classifier"] == first}

    def claim(self, claim_id):
        if claim_id not in self.claims:
            raise SmateError(f"findings: no claim '{claim_id}' in '{self.path / 'report/claims.csv'}'")
        return self.claims[claim_id]

    @cached_property
    def runs(self):
        return load_runs(self.path)

    def commits(self):
        """The short commits the folder's runs were made at, in order of first appearance by run name."""
        return list(dict.fromkeys(run["environment"]["git_commit"][:7] for run in self.runs))

    def train_seconds(self, methods):
        """The classifier training seconds the runs of `methods` recorded."""
        return [run["seconds"]["train"] for run in self.runs if run["method"] in methods]

    def stage_seconds(self, kind):
        """The wall times of the folder's stage instances of `kind` (train, pretrain_gan, ...), as the report's
        "Wall time" section counts them."""
        return [seconds for name, seconds in stage_seconds([self.path]).items() if name.partition("@")[0] == kind]


def _number(value):
    try:
        return float(value)
    except ValueError:
        return value


def percent(value, digits=1):
    """A share (0.291) as percent digits (29.1)."""
    return f"{100 * value:.{digits}f}"


def points(value, digits=1):
    """A difference of shares as signed percentage points (+15.2)."""
    return f"{100 * value:+.{digits}f}"


def fixed(value, digits=1):
    return f"{value:.{digits}f}"


def count(value):
    """A whole number with thousands commas (1,822)."""
    return f"{round(value):,}"


def span(values, digits=0, scale=1.0):
    """The range of some numbers, as "low to high" ("low" where they are one)."""
    low, high = scale * float(np.min(values)), scale * float(np.max(values))
    return f"{low:,.{digits}f}" if f"{low:.{digits}f}" == f"{high:.{digits}f}" else f"{low:,.{digits}f} to {high:,.{digits}f}"


FILTERS = {"percent": percent, "points": points, "fixed": fixed, "count": count, "span": span}
TESTS = {"without": lambda text, part: part not in text}


def environment(root):
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(root)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                              autoescape=False)


def render(template, root="."):
    """The page a template (a path relative to `root`) renders to, reading `root`/results."""
    root = Path(root)
    env = environment(root)
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    try:
        return env.get_template(Path(template).as_posix()).render(results=Folder(root / RESULTS))
    except (jinja2.TemplateError, SmateError) as err:
        message = str(err).removeprefix("findings: ")
        raise SmateError(f"findings: {template} (line {_template_line(err, root / template)}): {message}") from None


def _template_line(err, path):
    """The template's line a rendering error came from: Jinja puts the template's lines into the traceback."""
    line = getattr(err, "lineno", None)
    trace = err.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == str(path):
            line = trace.tb_lineno
        trace = trace.tb_next
    return line if line is not None else "?"


def write_pages(root=".", check=False):
    """Render every page; write those that changed (with `check`, write nothing). Returns the pages that differed."""
    root = Path(root)
    stale = []
    for page, template in {**PAGES, **BLOCKS}.items():
        before = (root / page).read_text() if (root / page).is_file() else None
        rendered = render(template, root)
        text = _placed(page, template, before, rendered) if page in BLOCKS else rendered
        if before == text:
            continue
        stale.append(page)
        if not check:
            atomic.write_text(root / page, text)
    return stale


def _placed(page, template, before, rendered):
    """The page with its template's rendering between its markers."""
    start = BLOCK_START.format(template=template.as_posix())
    if before is None or start not in before or BLOCK_END not in before.partition(start)[2]:
        raise SmateError(f"findings: {page} needs the lines '{start.strip()}' and '{BLOCK_END.strip()}' around "
                         "the part rendered from the template")
    head, _, rest = before.partition(start)
    return head + start + rendered + BLOCK_END + rest.partition(BLOCK_END)[2]


# A number a template may not type: a decimal (29.4) or a percentage (64%), outside Jinja's tags, code and links.
TYPED_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])|\d%")
_NOT_PROSE = re.compile(r"```.*?```|`[^`]*`|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\]\([^)]*\)", re.S)


def typed_numbers(template_text):
    """The decimals and percentages a template's prose types by hand, each with its line: what the page must
    read from the files instead."""
    prose = _NOT_PROSE.sub(lambda match: "\n" * match.group().count("\n"), template_text)
    return [(match.group(), prose.count("\n", 0, match.start()) + 1) for match in TYPED_NUMBER.finditer(prose)]
