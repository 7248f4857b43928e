"""Everything that reads results files and renders them: the summary table, the report (the paper's table, paper
vs reproduced, the claims tested over seeds), its statistics, figures and their styles, and where results live.

Reads OUT/runs/*/metrics.json and OUT/gan/; needs no model and no GPU. records.py loads the runs, stats.py tests
the claims, tables.py, findings.py and figures.py write what they show, build.py puts the report together. Its
names are imported when first used (smate/registry.py): summarize, a DVC stage of its own, needs no seaborn.
"""

from ..registry import lazy_attributes

__getattr__ = lazy_attributes(__name__, {
    "build_report": "smate.report.build:build_report", "by_method": "smate.report.records:by_method",
    "commits_line": "smate.report.records:commits_line", "configured_runs": "smate.report.records:configured_runs",
    "load_runs": "smate.report.records:load_runs", "holm": "smate.report.stats:holm",
    "source_verdict": "smate.report.stats:source_verdict", "spread": "smate.report.stats:spread",
    "test_claim": "smate.report.stats:test_claim", "tested": "smate.report.stats:tested"})

__all__ = ["build_report", "by_method", "commits_line", "configured_runs", "load_runs", "holm", "source_verdict",
           "spread", "test_claim", "tested"]
