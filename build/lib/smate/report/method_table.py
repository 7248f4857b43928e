"""docs/reference.md's table of methods, written from the registry: each method's family, its class's docstring
and its parameters' defaults, so that a method documented in its own module is documented there too."""

from pathlib import Path

from .. import atomic
from ..errors import SmateError
from ..rebalance import FAMILIES, REBALANCERS, default_params, family_of

BEGIN = "<!-- methods: written from the registry by `smate-bench methods --docs docs/reference.md`; edit the docstrings -->"
END = "<!-- /methods -->"


def method_table():
    """Every registered method, family by family, as a Markdown table."""
    rows = ["| method | family | what it does | parameters (`rebalance.<method>`) |", "|---|---|---|---|"]
    for family in FAMILIES:
        for name, cls in REBALANCERS.items():
            if family_of(name) == family:
                rows.append(f"| `{name}` | {family} | {_described(cls)} | {_parameters(cls)} |")
    return "\n".join(rows)


def _described(cls):
    first_paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first_paragraph.split()).replace("|", "\\|")


def _parameters(cls):
    return ", ".join(f"`{name}` {value!r}" for name, value in default_params(cls).items()) or "none"


def write_docs(path):
    """Put the table between the markers in `path`; whether it changed."""
    text = Path(path).read_text()
    if BEGIN not in text or END not in text:
        raise SmateError(f"'{path}' has no method table markers; add the lines {BEGIN} and {END} where the table goes")
    before, rest = text.split(BEGIN, 1)
    updated = f"{before}{BEGIN}\n{method_table()}\n{END}{rest.split(END, 1)[1]}"
    if updated != text:
        atomic.write_text(path, updated)
    return updated != text
