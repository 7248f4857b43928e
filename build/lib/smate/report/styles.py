"""How a method looks in every chart: its family's colour and a marker of its own within the family, so that
twenty-odd methods stay apart and a family reads at a glance."""

from collections import Counter
from dataclasses import dataclass

import seaborn as sns

from ..rebalance import FAMILIES, family_of

FAMILY_ORDER = (*FAMILIES, "other")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
# Indices into seaborn's colour-blind palette; the reference methods in its grey, as a baseline should look.
_PALETTE = sns.color_palette("colorblind", 10)
COLOURS = {family: _PALETTE[index] for family, index in zip(FAMILY_ORDER, (7, 0, 1, 2, 4, 5, 6))}
# A family with more methods than markers starts over with a darker colour, so no two methods share both.
_DARKER = 0.6


@dataclass(frozen=True)
class Style:
    family: str
    colour: tuple
    marker: str


def by_family(methods):
    """The methods grouped by family (FAMILY_ORDER), in their given order within each."""
    return sorted(methods, key=lambda method: FAMILY_ORDER.index(family_of(method)))


def method_styles(methods):
    """{method: Style}, markers taken in turn within each family in the order given."""
    taken, styles = Counter(), {}
    for method in dict.fromkeys(methods):
        family = family_of(method)
        round_, marker = divmod(taken[family], len(MARKERS))
        taken[family] += 1
        colour = tuple(channel * _DARKER ** round_ for channel in COLOURS[family])
        styles[method] = Style(family, colour, MARKERS[marker])
    return styles


def palette(styles):
    return {method: style.colour for method, style in styles.items()}


def markers(styles):
    return {method: style.marker for method, style in styles.items()}
