"""The findings pages: results/README.md is rendered from its template, every number read from the committed files."""

import json

import pytest

from smate.cli import main
from smate.errors import SmateError
from smate.report import pages

from conftest import REPO

# The parts of the findings templates whose folders issue 36 remakes, by heading (None: the text before the first):
# their prose, with its typed numbers, is rewritten from the files once the reruns land, and each leaves this list then.
AWAITING_RERUN = {
    "results/README.md.j2": ("# The committed runs and what they show", "## The paper's experiment at CPU scale",
                             "## The same runs trained as the authors trained", "## CIFAR-10-LT at imbalance factor 100",
                             "## A second real dataset, handwritten digits", "## The CPU sweep"),
    "results/brief.md.j2": (None,),
}


def test_the_committed_findings_pages_are_their_templates_rendered_from_the_committed_results():
    assert pages.write_pages(REPO, check=True) == []


def _sections(text):
    """{heading: its text up to the next heading of level 1 or 2}, the heading's line included."""
    sections, heading = {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith(("# ", "## ")):
            heading = line.strip()
        sections[heading] = sections.get(heading, "") + line
    return sections


def test_the_findings_templates_type_no_decimal_or_percentage_outside_the_parts_awaiting_their_rerun():
    for template in [*pages.PAGES.values(), *pages.BLOCKS.values()]:
        for heading, text in _sections((REPO / template).read_text()).items():
            awaiting = AWAITING_RERUN.get(template.as_posix(), ())
            if heading in awaiting or (heading is not None and heading.startswith(tuple(filter(None, awaiting)))):
                continue
            assert pages.typed_numbers(text) == [], (template, heading)


def test_typed_numbers_finds_decimals_and_percentages_in_prose_only():
    template = ("Recall 29.4 against {{ x | percent }}, 64% of trucks, `lr 2e-4 (0.5, 0.999)`, [a](v1.2.md),\n"
                "```\ntorch 2.14.1\n```\n{% set y = 0.5 %}version 3, 16x16, issue 34, line\n12.5\n")
    assert pages.typed_numbers(template) == [("29.4", 1), ("4%", 1), ("12.5", 6)]


def _folder(root):
    """results/made under `root`: a summary of two methods over seeds 0 and 1, and their runs."""
    folder = root / "results" / "made"
    rows = ["method,n_seeds,seeds,minority_recall_mean", "smote,2,0 1,0.500000", "imbalanced,2,0 1,0.250000"]
    (folder / "runs").mkdir(parents=True)
    (folder / "report").mkdir()
    (folder / "summary.csv").write_text("\n".join(rows) + "\n")
    (folder / "report" / "claims.csv").write_text("classifier,id,mean_difference,p_holm,verdict\n"
                                                  "keras_cnn,smote_beats_imbalanced,0.25,0.012,holds\n"
                                                  "fast,smote_beats_imbalanced,0.05,0.4,not significant\n")
    for method, recalls in (("smote", (0.4, 0.6)), ("imbalanced", (0.2, 0.3))):
        for seed, recall in enumerate(recalls):
            (folder / "runs" / f"{method}-{seed}").mkdir()
            run = {"method": method, "seed": seed, "minority_recall": recall, "seconds": {"train": 10.0 + seed},
                   "environment": {"git_commit": f"{seed}abcdef0123"}, "params": {"data": {}}}
            (folder / "runs" / f"{method}-{seed}" / "metrics.json").write_text(json.dumps(run))
    return folder


def test_a_template_reads_means_spreads_and_commits_from_the_runs(tmp_path):
    _folder(tmp_path)
    (tmp_path / "page.j2").write_text(
        '{% set made = results["made"] %}{% for m in made.methods_by("minority_recall") %}'
        '{{ m }} {{ made.mean(m, "minority_recall") | percent }} ± {{ made.std(m, "minority_recall") | percent(2) }}; '
        '{% endfor %}{{ made.commits() | join(", ") }}; {{ made.train_seconds(["smote"]) | span(1) }} s; '
        '{{ (made.mean("smote", "minority_recall") - made.mean("imbalanced", "minority_recall")) | points }}; '
        '{{ 1822 | count }}; {% set claim = made.claim("smote_beats_imbalanced") %}{{ claim.verdict }} '
        '{{ claim.mean_difference | points }} (Holm p {{ claim.p_holm | fixed(3) }})\n')
    text = pages.render("page.j2", tmp_path)
    assert text == "smote 50.0 ± 14.14; imbalanced 25.0 ± 7.07; 0abcdef, 1abcdef; 10.0 to 11.0 s; +25.0; 1,822; holds +25.0 (Holm p 0.012)\n"


def test_a_template_that_reads_what_is_not_there_fails_in_one_line(tmp_path):
    _folder(tmp_path)
    for template, message in (('{{ results["gone"].mean("smote", "accuracy") }}', "no results folder"),
                              ('{{ results["made"].mean("focal", "accuracy") }}', "focal has no row"),
                              ('{{ results["made"].json("sweep.json") }}', "is not committed"),
                              ("{{ nothing.here }}", "page.j2 (line 1)")):
        (tmp_path / "page.j2").write_text(template)
        with pytest.raises(SmateError, match="findings: .*" + message.replace("(", r"\(").replace(")", r"\)")):
            pages.render("page.j2", tmp_path)


def test_findings_check_exits_1_on_a_stale_page_and_the_command_rewrites_it(tmp_path, monkeypatch, capsys):
    _folder(tmp_path)
    monkeypatch.setattr(pages, "PAGES", {pages.Path("results/README.md"): pages.Path("results/README.md.j2")})
    monkeypatch.setattr(pages, "BLOCKS", {})
    (tmp_path / "results" / "README.md.j2").write_text('smote: {{ results["made"].mean("smote", "minority_recall") | percent }}%\n')
    (tmp_path / "results" / "README.md").write_text("smote: 61.0%\n")
    assert main(["findings", "--check", "--root", str(tmp_path)]) == 1
    assert "results/README.md differs" in capsys.readouterr().out
    assert (tmp_path / "results" / "README.md").read_text() == "smote: 61.0%\n"
    assert main(["findings", "--root", str(tmp_path)]) == 0
    assert (tmp_path / "results" / "README.md").read_text() == "smote: 50.0%\n"
    assert main(["findings", "--check", "--root", str(tmp_path)]) == 0


def test_a_page_that_holds_more_than_findings_is_rewritten_between_its_markers_only(tmp_path, monkeypatch):
    _folder(tmp_path)
    monkeypatch.setattr(pages, "PAGES", {})
    monkeypatch.setattr(pages, "BLOCKS", {pages.Path("README.md"): pages.Path("brief.j2")})
    (tmp_path / "brief.j2").write_text('smote: {{ results["made"].mean("smote", "minority_recall") | percent }}%\n')
    start = pages.BLOCK_START.format(template="brief.j2")
    (tmp_path / "README.md").write_text(f"# Title\n\n{start}smote: 61.0%\n{pages.BLOCK_END}\n## Install\n")
    assert pages.write_pages(tmp_path) == [pages.Path("README.md")]
    assert (tmp_path / "README.md").read_text() == f"# Title\n\n{start}smote: 50.0%\n{pages.BLOCK_END}\n## Install\n"
    (tmp_path / "README.md").write_text("# Title\n\nsmote: 61.0%\n")
    with pytest.raises(SmateError, match="README.md needs the lines"):
        pages.write_pages(tmp_path)
