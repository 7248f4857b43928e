"""Everything that reads results files and renders them: the summary table, the report (the paper's table, paper
vs reproduced, the claims tested over seeds), its statistics, figures and their styles, and where results live.

Reads OUT/runs/*/metrics.json and OUT/gan/; needs no model and no GPU. records.py loads the runs, stats.py tests
the claims, tables.py, findings.py and figures.py write what they show, build.py puts the report together. Its
names are imported when first used (smate/registry.py): summarize, a DVC stage of its own, needs no seaborn.
"""

from ..registry import lazy_attributes

_NAMES = {"build_report": "build", "by_method": "records", "commits_line": "records", "configured_runs": "records",
          "load_runs": "records", "holm": "stats", "source_verdict": "stats", "spread": "stats", "test_claim": "stats",
          "tested": "stats"}
__getattr__ = lazy_attributes(__name__, {name: f"smate.report.{module}:{name}" for name, module in _NAMES.items()})

__all__ = list(_NAMES)
