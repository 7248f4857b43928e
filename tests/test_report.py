import csv
import itertools
import json
import re

import numpy as np
import pytest
import yaml

from smate import report
from smate.report import stats as report_stats, tables
from smate.cli import main
from smate.config import defaults
from smate.report.records import PAPER_REFERENCE

from conftest import FIXTURE, REPO

METHODS = ["full", "imbalanced", "smote", "smate"]


def fake_run(method, seed, accuracy, recall, classifier="fast", generators="per_seed"):
    """A run's record; a generator method's run drew from its own seed's generator, or with `generators`
    "single" from the one generator of every seed (its record names no generator seed, as older runs)."""
    replicated = method in METHODS[3:] and generators == "per_seed"
    return {
        **({"generator_seed": seed} if replicated else {}),
        "method": method, "seed": seed, "classifier": classifier, "accuracy": accuracy, "minority_recall": recall,
        "history": [{"epoch": e, "train_accuracy": accuracy * e / 2, "test_accuracy": accuracy * e / 2,
                     "minority_recall": recall * e / 2} for e in (1, 2)],
        "balanced_accuracy": accuracy, "gmean": accuracy, "minority_f1": recall, "minority": ["truck"],
        "per_class": {name: {"recall": value, "precision": value, "f1": value, "support": 10}
                      for name, value in (("car", accuracy), ("truck", recall))}, "confusion_matrix": [[9, 1], [4, 6 + seed]],
        "params": {**defaults(), "methods": METHODS},
        "dataset": {"kind": "imagefolder", "root": "data", "sha256": "0" * 64},
        "environment": {"device": {"type": "cpu", "name": "x86_64"}, "packages": {"torch": "2.14.1"}, "git_commit": "abc"},
    }


def write_runs(folder, runs):
    for run in runs:
        path = folder / "runs" / f"{run['method']}-{run['seed']}" / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(run))


def test_the_runs_machines_are_named_with_their_precision_and_counted_when_several():
    from smate.report.records import machine_of, machines_line

    runs = [fake_run("smote", seed, 0.8, 0.5) for seed in range(3)]
    assert machines_line(runs) == "device x86_64 (cpu, fp32)"
    runs[0]["environment"]["device"] = {"type": "cpu", "name": "Intel Xeon", "native_bf16": True}
    assert machine_of(runs[0]) == "Intel Xeon (cpu, bf16)"  # classify.bf16 auto: the device's native bf16
    assert machines_line(runs) == "devices Intel Xeon (cpu, bf16) for 1 run, x86_64 (cpu, fp32) for 2 runs"
    runs[0]["params"] = {**runs[0]["params"], "classify": {**runs[0]["params"]["classify"], "bf16": False}}
    assert machine_of(runs[0]) == "Intel Xeon (cpu, fp32)"


def test_spread_gives_the_t_interval():
    mean, std, half = report.spread([0.1, 0.2, 0.3])
    assert mean == pytest.approx(0.2) and std == pytest.approx(0.1)
    assert half == pytest.approx(4.302653 * 0.1 / np.sqrt(3), rel=1e-6)
    assert np.isnan(report.spread([0.5])[1])


CLAIM = {"id": "x", "text": "smate beats smote", "metric": "minority_recall", "better": "smate", "worse": "smote"}


def grouped(better_recalls, worse_recalls):
    return report.by_method([fake_run("smate", s, 0.9, r) for s, r in enumerate(better_recalls)]
                            + [fake_run("smote", s, 0.9, r) for s, r in enumerate(worse_recalls)])


LOSING = [0.50, 0.56, 0.52], [0.60, 0.60, 0.60]  # smate below smote by 10, 4 and 8 points: one-sided p about 0.03


def test_a_does_not_hold_verdict_is_corrected_for_the_claims_tested_with_it():
    runs = grouped(*LOSING)
    specs = [{**CLAIM, "id": f"c{i}"} for i in range(3)]
    claims = report.tested("paper", specs, runs, [])
    for claim in claims:
        assert claim["p_opposite"] < 0.05 <= claim["p_opposite_holm"] == pytest.approx(3 * claim["p_opposite"])
        assert claim["verdict"] == "not significant"
    alone = report.tested("paper", specs[:1], runs, [])[0]
    assert alone["p_opposite_holm"] == alone["p_opposite"] < 0.05 and alone["verdict"] == "does not hold"


def test_the_same_difference_in_every_seed_is_untested_not_a_zero_p():
    # 0.27 - 0.29 and 0.13 - 0.15 differ only in the last bits; a t-test would give p = 0.
    claim = report.test_claim(CLAIM, grouped([0.27, 0.13], [0.29, 0.15]))
    assert claim["verdict"] == "untested (the same difference in every seed)" and claim["p_opposite"] is None
    assert report.tested("paper", [CLAIM], grouped([0.27, 0.13], [0.29, 0.15]), [])[0]["p_opposite_holm"] is None


def test_losing_to_any_of_several_opponents_pays_for_the_pick_of_that_one():
    runs = report.by_method([fake_run("smate", s, 0.9, r) for s, r in enumerate(LOSING[0])]
                            + [fake_run(m, s, 0.9, r) for m in ("smote", "full") for s, r in enumerate(LOSING[1])])
    one = report.test_claim(CLAIM, runs)
    both = report.test_claim({**CLAIM, "worse": ["smote", "full"]}, runs)
    assert both["p_opposite"] == pytest.approx(2 * one["p_opposite"])


def test_a_claim_on_a_generator_trained_once_is_descriptive_and_outside_the_family():
    single = report.by_method([fake_run("smate", s, 0.9, r, generators="single") for s, r in enumerate(LOSING[0])]
                              + [fake_run("smote", s, 0.9, r) for s, r in enumerate(LOSING[1])])
    other = {"id": "y", "text": "smote beats full", "metric": "accuracy", "better": "smote", "worse": "full"}
    claims = report.tested("paper", [CLAIM, other], {**single, "full": single["smote"]}, [])
    assert claims[0]["verdict"] == "descriptive (1 generator)" and claims[0]["p_holm"] is None
    assert claims[0]["p_opposite"] < 0.05 and claims[0]["generator_trainings"] == 1
    assert claims[1]["generator_trainings"] is None and claims[1]["p_holm"] == claims[1]["p_value"]  # a family of one
    replicated = report.tested("paper", [CLAIM], grouped(*LOSING), [])[0]
    assert replicated["generator_trainings"] == 3 and replicated["verdict"] == "does not hold"


def test_a_consistent_win_holds_and_a_loss_does_not():
    win = report.test_claim(CLAIM, grouped([0.60, 0.62, 0.61, 0.65, 0.63], [0.50, 0.51, 0.52, 0.50, 0.53]))
    assert win["verdict"] == "holds" and win["p_value"] < 0.001 and win["n"] == 5
    assert win["mean_difference"] == pytest.approx(0.11)
    loss = report.test_claim(CLAIM, grouped([0.50, 0.51, 0.52, 0.50, 0.53], [0.60, 0.62, 0.61, 0.65, 0.63]))
    assert loss["verdict"] == "does not hold"


def test_a_noisy_win_is_not_significant_and_a_missing_method_is_not_run():
    noisy = report.test_claim(CLAIM, grouped([0.70, 0.40, 0.66, 0.45, 0.60], [0.50, 0.55, 0.52, 0.58, 0.53]))
    assert noisy["mean_difference"] > 0 and noisy["p_value"] > 0.05 and noisy["verdict"] == "not significant"
    absent = report.test_claim(CLAIM, report.by_method([fake_run("smote", 0, 0.9, 0.5)]))
    assert absent["verdict"] == "not run (smate has no runs)"


def test_a_small_noisy_loss_is_not_significant_and_one_seed_is_untested():
    # -0.1 points with p near 0.4: the data cannot say the claim fails, only that it is not shown.
    small = report.test_claim(CLAIM, grouped([0.600, 0.530, 0.650, 0.570, 0.640], [0.610, 0.540, 0.630, 0.590, 0.625]))
    assert -0.01 < small["mean_difference"] < 0 and small["p_opposite"] > 0.05 and small["verdict"] == "not significant"
    single = report.test_claim(CLAIM, grouped([0.7], [0.5]))
    assert single["verdict"] == "untested (1 seed)" and single["p_value"] is None
    assert single["mean_difference"] == pytest.approx(0.2)


def test_holm_adjusts_step_down_as_holm_wrote_it():
    # Sorted 0.01, 0.03, 0.04 -> 3 x 0.01, max(0.03, 2 x 0.03), max(0.06, 0.04); None stays out of the family.
    assert report.holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])
    assert report_stats.holm_levels([0.01, 0.04, 0.03]) == pytest.approx([0.05 / 3, 0.05, 0.05 / 2])


@pytest.mark.parametrize("n, level", [(3, 0.05), (5, 0.01), (10, 0.005)])
def test_a_detectable_difference_is_seen_four_times_in_five(n, level):
    """Checked against the noncentral t (scipy), not the library that solves for it."""
    from scipy import stats

    sd = 0.07
    size = report_stats.detectable_difference(sd, n, level)
    critical = stats.t.ppf(1 - level, n - 1)
    power = stats.nct.sf(critical, n - 1, size / sd * np.sqrt(n))
    assert power == pytest.approx(0.8, abs=1e-4)
    needed = report_stats.seeds_needed(sd, size, level)
    assert needed == n and report_stats.detectable_difference(sd, n - 1, level) > size
    assert report_stats.detectable_difference(0.0, n, level) is None and report_stats.detectable_difference(sd, 1, level) is None


def test_a_not_significant_verdict_says_what_it_could_have_seen():
    claim = report.tested("paper", [CLAIM], grouped([0.70, 0.40, 0.66, 0.45, 0.60], [0.50, 0.55, 0.52, 0.58, 0.53]), [])[0]
    differences = np.array([0.70, 0.40, 0.66, 0.45, 0.60]) - np.array([0.50, 0.55, 0.52, 0.58, 0.53])
    expected = report_stats.detectable_difference(differences.std(ddof=1), 5, 0.05)  # a family of one: level 0.05
    assert claim["detectable_difference"] == pytest.approx(expected)
    assert tables.verdict_words(claim) == (f"not significant; a difference under {100 * expected:.1f} points would not "
                                           "be detected with 5 seeds")
    win = report.tested("paper", [CLAIM], grouped([0.60, 0.62, 0.61, 0.65, 0.63], [0.50, 0.51, 0.52, 0.50, 0.53]), [])[0]
    assert tables.verdict_words(win) == "holds"


def test_a_run_whose_recall_still_climbs_past_its_seed_spread_is_flagged():
    from smate.report.findings import still_moving_lines

    def climbing(method, seed, curve):
        return {**fake_run(method, seed, 0.8, curve[-1]),
                "history": [{"epoch": 5 * (k + 1), "minority_recall": value} for k, value in enumerate(curve)]}

    settled = [climbing("smote", seed, [0.1, 0.3, 0.40 + 0.02 * seed, 0.40 + 0.02 * seed, 0.41 + 0.02 * seed])
               for seed in range(3)]
    rising = [climbing("smate", seed, [0.1, 0.2, 0.3, 0.4, 0.5 + 0.01 * seed]) for seed in range(3)]
    [line] = still_moving_lines(report.by_method(settled + rising))
    # From epoch 20 (80% of 25) to 25: +10 points, against a final-recall sd of 1 point; smote moved 1 against 2.
    assert "3 runs'" in line and "smate-0 (+10.0 against an sd of 1.0)" in line and "smote" not in line
    assert still_moving_lines(report.by_method(settled)) == []


def test_a_claim_against_several_methods_must_beat_each():
    claim = {**CLAIM, "worse": ["smote", "adasyn"]}
    runs = ([fake_run("smate", s, 0.9, 0.60 + 0.01 * s) for s in range(4)]
            + [fake_run("smote", s, 0.9, 0.50 + 0.012 * s) for s in range(4)])
    beaten = runs + [fake_run("adasyn", s, 0.9, 0.40 + 0.009 * s) for s in range(4)]
    close = runs + [fake_run("adasyn", s, 0.9, 0.59 + 0.02 * (s % 2)) for s in range(4)]
    result = report.test_claim(claim, report.by_method(beaten))
    assert result["verdict"] == "holds" and result["worse"] == "smote adasyn"
    assert result["mean_difference"] == pytest.approx(0.097)  # the smaller margin: against smote
    one_short = report.test_claim(claim, report.by_method(close))
    assert one_short["verdict"] == "not significant" and one_short["p_value"] > 0.05


def test_a_best_of_claim_picks_the_highest_mean_and_pays_for_the_pick():
    claim = {**CLAIM, "text": "the best loss beats smote", "better": {"best_of": ["focal", "ldam_drw", "never_run"]}}
    runs = ([fake_run("smote", s, 0.9, 0.50 + 0.01 * s) for s in range(4)]
            + [fake_run("focal", s, 0.9, 0.55 + 0.012 * s) for s in range(4)]
            + [fake_run("ldam_drw", s, 0.9, 0.60 + 0.009 * s * s) for s in range(4)])
    result = report.test_claim(claim, report.by_method(runs))
    assert result["better"] == "ldam_drw" and result["claim"] == "the best loss beats smote (ldam_drw, best of 2)"
    alone = report.test_claim({**claim, "better": "ldam_drw"}, report.by_method(runs))
    assert result["p_value"] == pytest.approx(2 * alone["p_value"])  # Bonferroni over the two methods that ran
    assert result["mean_difference"] == alone["mean_difference"] and result["verdict"] == alone["verdict"] == "holds"
    nobody = report.test_claim({**claim, "better": {"best_of": ["never_run"]}}, report.by_method(runs))
    assert nobody["verdict"] == "not run (none of never_run has runs)"
    assert report.source_verdict(claim, {"smote": {"minority_recall": 0.5}}) == ""


def test_a_generator_claim_reads_each_seeds_frechet_distance_and_lower_wins(tmp_path):
    runs = [fake_run(method, seed, 0.9, 0.5) for method in ("smate", "smate_diffaugment") for seed in range(3)]
    write_runs(tmp_path, runs)
    distances = {"smate": [40.0, 42.0, 41.0], "smate_diffaugment": [30.0, 33.0, 31.0]}
    for method, values in distances.items():
        quality = {"classes": {"truck": {"frechet_distance_by_seed": {str(s): v for s, v in enumerate(values)}}}}
        (tmp_path / "gan" / method).mkdir(parents=True)
        (tmp_path / "gan" / method / "quality.json").write_text(json.dumps(quality))
    grouped = report.by_method(report.load_runs(tmp_path))
    assert grouped["smate_diffaugment"][1]["generator_frechet_distance"] == 33.0
    claim = {"id": "da", "text": "diffaugment lowers FD", "metric": "generator_frechet_distance", "lower_is_better": True,
             "better": "smate_diffaugment", "worse": "smate"}
    result = report.test_claim(claim, grouped)
    assert result["verdict"] == "holds" and result["mean_difference"] == pytest.approx(29 / 3)
    assert report.test_claim({**claim, "better": "smate", "worse": "smate_diffaugment"}, grouped)["verdict"] == "does not hold"
    assert "| +9.67 " in tables.claims_table([{**result, "p_holm": None}], [])  # FD units, not percentage points
    # A run without the distance (a method with no generator) leaves the claim untested, saying why.
    without = report.test_claim({**claim, "worse": "smote"}, report.by_method(runs + [fake_run("smote", 0, 0.9, 0.5)]))
    assert without["verdict"].startswith("not run (smate_diffaugment-0 has no generator_frechet_distance")


def test_runs_on_another_imbalance_profile_skip_the_papers_numbers_but_test_the_suites_claims(tmp_path):
    methods = ["imbalanced", "smote", "focal", "logit_adjust"]
    runs = [fake_run(m, s, 0.6 + 0.05 * i + 0.01 * s, 0.3 + 0.1 * i) for i, m in enumerate(methods) for s in range(3)]
    for run in runs:
        run["params"] = {**run["params"], "methods": methods,
                         "data": {**run["params"]["data"], "profile": "exp", "imbalance_factor": 100.0}}
    write_runs(tmp_path, runs)
    assert main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "the exp profile at imbalance factor 100, minority truck" in text
    assert "The paper's claims are left out: these runs are not its setting" in text and "### Which method to use" in text
    assert "Paper vs reproduced" not in text and "### The paper's claims" not in text
    assert re.search(r"The best loss-based method beats SMate on minority recall \(logit_adjust, best of 2\) +\| 0 .*"
                     r"not run \(smate has no runs\)", text)


def test_holm_adjusts_in_step_down_order():
    adjusted = report.holm([0.01, 0.04, 0.03, None])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06]) and adjusted[3] is None
    assert report.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_a_sources_single_runs_read_as_yes_or_no_with_their_numbers():
    numbers = {"smate": {"minority_recall": 0.535}, "smote": {"minority_recall": 0.51},
               "adasyn": {"minority_recall": 0.56}}
    assert report.source_verdict(CLAIM, numbers) == "yes (53.5 vs 51)"
    assert report.source_verdict({**CLAIM, "worse": ["smote", "adasyn"]}, numbers) == "no (53.5 vs 51, 56)"
    assert report.source_verdict({**CLAIM, "worse": "oversample"}, numbers) == ""


def test_one_seed_leaves_every_claim_untested_and_says_so(tmp_path):
    write_runs(tmp_path, [fake_run(m, 0, 0.8, 0.5 + 0.1 * i) for i, m in enumerate(METHODS)])
    assert main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "None of the paper's 11 claims can be tested on these runs" in text and "claims hold" not in text
    assert re.search(r"SMate beats SMOTE on truck recall +\| +\| yes \(53\.5 vs 51\) +\| 1 +\| \+10\.00 .*\| untested \(1 seed\)", text)


def test_the_report_takes_the_runs_the_summary_names_with_one_setting(tmp_path):
    runs = [fake_run(m, s, 0.8, 0.5) for m in METHODS for s in range(2)]
    stale = fake_run("smote", 2, 0.1, 0.1)  # a seed since removed
    other = fake_run("full", 1, 0.8, 0.5)
    other["params"] = {**other["params"], "data": {**other["params"]["data"], "ratio": 0.5}}
    write_runs(tmp_path, [run for run in runs if (run["method"], run["seed"]) != ("full", 1)] + [stale, other])
    (tmp_path / "summary.csv").write_text("method,n_seeds,seeds\n" + "".join(f"{m},2,0 1\n" for m in METHODS))
    assert main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "1 runs that its summary.csv does not name (methods or seeds since removed): smote-2." in text
    assert "1 runs that were made with other data or classifier parameters than the rest: full-1." in text
    with open(tmp_path / "report" / "paper_table_fast.csv") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert rows["smote"]["n"] == "2" and rows["full"]["n"] == "1"


def test_report_writes_every_table_per_classifier_and_repeats_byte_for_byte(tmp_path):
    rng = np.random.default_rng(0)
    # Run folders are named method-seed, so the second regime's seeds are 10-12 here.
    runs = [fake_run(m, first + s, 0.7 + rng.uniform(0, 0.1), rng.uniform(0.3, 0.8), classifier)
            for classifier, first in (("fast", 0), ("keras_cnn", 10)) for m in METHODS for s in range(3)]
    write_runs(tmp_path, runs)
    assert main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)]) == 0
    out = tmp_path / "report"
    text = (out / "report.md").read_text()
    assert "## Classifier: fast" in text and "## Classifier: keras_cnn" in text
    assert "SMate beats SMOTE on truck recall" in text
    assert re.search(r"\| full +\| Full Data +\| 77\.50 +\| 77\.70 +\|", text)  # the paper, then the notebook
    assert re.search(r"\| method +\| n +\| test accuracy +\| minority recall +\|", text)  # the seeds' table keeps its own head
    assert "\\toprule" in (out / "paper_table_fast.tex").read_text()
    with open(out / "paper_table_keras_cnn.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["method"] for row in rows] == METHODS and rows[0]["n"] == "3"
    with open(out / "claims.csv") as handle:
        claims = list(csv.DictReader(handle))
    beyond = len(yaml.safe_load((PAPER_REFERENCE).read_text())["beyond"])
    assert {c["classifier"] for c in claims} == {"fast", "keras_cnn"} and len(claims) == 2 * (11 + beyond)
    assert [c["section"] for c in claims[:11 + beyond]] == ["paper"] * 11 + ["beyond"] * beyond
    drawn = {p.relative_to(out).as_posix() for p in out.rglob("*.png")}
    assert drawn == {f"figures/{regime}/{name}.png" for regime in ("fast", "keras_cnn")
                     for name in ("fig5_accuracy_per_epoch", "fig10_minority_per_epoch", "fig11_confusion",
                                  "recall_vs_accuracy", "forest")}
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)])
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_reproduction_file_states_what_holds_per_classifier(tmp_path):
    recall = {"smate": lambda s: 0.7 + 0.02 * s, "smote": lambda s: 0.5 + 0.01 * s}
    runs = [fake_run(m, s, 0.8, recall.get(m, lambda s: 0.6)(s)) for m in METHODS for s in range(3)]
    write_runs(tmp_path, runs)
    target = tmp_path / "REPRODUCTION.md"
    main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE),
          "--reproduction", str(target)])
    text = target.read_text()
    assert text.startswith("# Reproducing SMate: what holds") and "## Classifier: fast" in text
    assert "device x86_64 (cpu, fp32)" in text and "seeds [0, 1, 2]" in text
    assert re.search(r"SMate beats SMOTE on truck recall +\| +\| yes \(53\.5 vs 51\) +\| 3 +\| \+21\.00 .*\| holds", text)
    assert "2 hold and 0 do not hold with this classifier, after Holm's correction on both sides" in text
    assert "![" not in text


def test_reproduction_reads_the_freeze_from_the_generators_records_not_an_older_run(tmp_path):
    runs = [fake_run(m, s, 0.8, 0.6) for m in METHODS for s in range(2)]
    older = defaults()
    older["gan"]["transfer"]["freeze"] = 8
    for run in runs:
        if run["method"] != "smate":
            run["params"] = {**run["params"], "gan": older["gan"]}  # made at an older commit
    write_runs(tmp_path, runs)
    history = tmp_path / "gan" / "smate" / "generators" / "truck" / "history.json"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"label": "smate truck", "n_images": 10, "seed": 0, "freeze": 5, "history": [
        {"epoch": 1, "d_loss": 1.0, "g_loss": 1.0, "d_real_accuracy": 0.5, "d_fake_accuracy": 0.5}]}))
    target = tmp_path / "REPRODUCTION.md"
    main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE),
          "--reproduction", str(target)])
    assert "5 generator modules frozen in the transfer" in target.read_text()


def test_a_summary_that_names_none_of_the_runs_stops_with_one_line(tmp_path, capsys):
    write_runs(tmp_path, [fake_run("smote", 0, 0.8, 0.5)])
    (tmp_path / "summary.csv").write_text("method,n_seeds,seeds\nadasyn,1,3\n")
    assert main(["report", "--results", str(tmp_path)]) == 2
    assert "none of the runs under" in capsys.readouterr().err


def test_two_folders_with_the_same_runs_are_refused_not_mixed(tmp_path, capsys):
    for name in ("ours", "authors"):
        write_runs(tmp_path / name, [fake_run(m, 0, 0.8, 0.5, "keras_cnn") for m in METHODS])
    code = main(["report", "--results", str(tmp_path / "ours"), str(tmp_path / "authors"),
                 "--reference", str(PAPER_REFERENCE)])
    error = capsys.readouterr().err
    assert code == 2 and "keras_cnn full seed 0 has runs in both" in error and "one at a time" in error


def test_report_without_runs_says_what_to_run(tmp_path, capsys):
    assert main(["report", "--results", str(tmp_path)]) == 2
    assert "smate-bench run" in capsys.readouterr().err


def test_regimes_runs_both_classifiers_and_reports_them_side_by_side(tmp_path):
    args = ["regimes", "--preset", "tiny", "--set", f"data.root={FIXTURE}", "--set", "methods=imbalanced,smote",
            "--set", "seeds=0", "--set", "classify.fast.epochs=1",
            "--set", "classify.keras_cnn.epochs=1", "--reference", str(PAPER_REFERENCE),
            "--quiet", "--out", str(tmp_path)]
    assert main(args) == 0
    for model in ("fast", "keras_cnn"):
        record = json.loads((tmp_path / model / "runs" / "smote-0" / "metrics.json").read_text())
        assert record["classifier"] == model
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Classifier: fast" in text and "## Classifier: keras_cnn" in text


COMMITTED = [folder for folder in [REPO / "results", *sorted((REPO / "results").glob("*/"))]
             if list(folder.glob("runs/*/metrics.json")) and (folder / "report").is_dir()]


@pytest.mark.skipif(not COMMITTED, reason="no committed results with a report yet")
@pytest.mark.parametrize("results", COMMITTED, ids=lambda folder: folder.name)
def test_committed_results_regenerate_their_report_byte_for_byte(results, tmp_path):
    main(["report", "--results", str(results), "--reference", str(PAPER_REFERENCE),
          "--out", str(tmp_path / "report"), "--reproduction", str(tmp_path / "REPRODUCTION.md")])
    assert_same_files(results / "report", tmp_path / "report")
    reproduction = (REPO / "paper" / "REPRODUCTION.md").read_text()
    # paper/REPRODUCTION.md comes from one of them, which its third line names; past it, the text must match.
    if f"`{results.relative_to(REPO).as_posix()}`" in reproduction.split("\n", 3)[2]:
        assert (tmp_path / "REPRODUCTION.md").read_text().split("\n", 3)[3] == reproduction.split("\n", 3)[3]


COMMITTED_SWEEPS = [folder for folder in sorted((REPO / "results").glob("*/"))
                    if (folder / "sweep.json").is_file() and (folder / "report").is_dir()]


@pytest.mark.skipif(not COMMITTED_SWEEPS, reason="no committed sweep with a report yet")
@pytest.mark.parametrize("swept", COMMITTED_SWEEPS, ids=lambda folder: folder.name)
def test_committed_sweeps_regenerate_their_report_byte_for_byte(swept, tmp_path):
    assert main(["report", "--results", str(swept), "--out", str(tmp_path / "report")]) == 0
    assert_same_files(swept / "report", tmp_path / "report")


def assert_same_files(committed_folder, rebuilt_folder):
    committed = [path for path in committed_folder.rglob("*") if path.is_file()]
    assert committed
    for path in committed:
        assert (rebuilt_folder / path.relative_to(committed_folder)).read_bytes() == path.read_bytes(), path


def test_runs_made_before_profiles_existed_share_the_minority_profiles_setting(tmp_path):
    runs = [fake_run(m, s, 0.8, 0.5) for m in METHODS for s in range(2)]
    for run in runs[:3]:  # as made before data.profile and data.imbalance_factor existed
        run["params"] = {**run["params"], "data": {k: v for k, v in run["params"]["data"].items()
                                                   if k not in ("profile", "imbalance_factor")}}
    runs[-1]["params"] = {**runs[-1]["params"], "data": {**runs[-1]["params"]["data"], "imbalance_factor": 10.0}}
    runs[-1]["environment"] = {**runs[-1]["environment"], "git_commit": "def"}
    write_runs(tmp_path, runs)
    (tmp_path / "summary.csv").write_text("method,n_seeds,seeds\n" + "".join(f"{m},2,0 1\n" for m in METHODS))
    kept, left_out = report.configured_runs(tmp_path, report.load_runs(tmp_path))
    assert len(kept) == len(runs) and left_out == []
    assert main(["report", "--results", str(tmp_path), "--reference", str(PAPER_REFERENCE)]) == 0
    assert "; commits abc, def" in (tmp_path / "report" / "report.md").read_text()


def _quality(variant, sample_ssim, real_ssim):
    stage = {"label": f"{variant} truck, seed 0", "images": 100, "epochs": 2, "steps": 4, "freeze": 6, "last_grid": None,
             **({} if sample_ssim is None else {"sample_ssim": sample_ssim, "real_ssim": real_ssim})}
    return {"variant": variant, "feature_net": {"classifier": "fast", "test_accuracy": 0.5}, "generators": {"truck": [stage]},
            "classes": {"truck": {"frechet_distance": 1.0, "precision": 0.5, "recall": 0.5, "memorization": {"ratio": 1.0},
                                  "classified_as_class": {"synthetic": 0.5, "heldout": 0.8}}}}


def test_the_generator_table_shows_the_collapse_signal_and_warns_of_a_collapsed_generator():
    parts = tables.generator_tables([_quality("smate", 0.61, 0.08), _quality("cgan", 0.20, 0.09)])
    text = "\n".join(parts)
    assert "samples' SSIM (real)" in text and "| 0.61 (0.08) " in text and "| 0.20 (0.09) " in text
    warnings = [line for line in parts if line.startswith("**Warning: collapsed generators**")]
    assert len(warnings) == 1 and "smate truck, seed 0 0.61 (0.08)" in warnings[0] and "cgan" not in warnings[0]
    # Trainings made before the signal was recorded keep the table they had.
    older = "\n".join(tables.generator_tables([_quality("smate", None, None)]))
    assert "SSIM" not in older and "Warning" not in older


def test_runs_on_other_data_than_the_papers_answer_which_method_to_use_first(tmp_path):
    runs = [{**fake_run(m, s, 0.6 + 0.05 * i + 0.01 * s, 0.5 + 0.05 * i + 0.01 * s), "minority": ["eight"]}
            for i, m in enumerate(METHODS) for s in range(3)]
    write_runs(tmp_path, runs)
    main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "report")])
    text = (tmp_path / "report" / "report.md").read_text()
    assert "### Paper vs reproduced" not in text and "### The paper's claims" not in text and "| paper " not in text
    assert "The paper's claims are left out" in text
    # The answer comes before the full table; full, the data before the cut, is no option and has no rank.
    assert text.index("### Which method to use") < text.index("Cells: mean")
    assert "| -      | full (ceiling: the data before the cut) |" in text
    leader = max((m for m in METHODS if m != "full"), key=METHODS.index)
    assert f"Use **{leader}**: the highest balanced acc. here" in text


def test_report_metric_picks_what_the_leaderboard_ranks_by(tmp_path):
    runs = [{**fake_run(m, s, 0.9 - 0.1 * i, 0.3 + 0.1 * i + 0.01 * s), "minority": ["eight"]}
            for i, m in enumerate(METHODS) for s in range(3)]
    for run in runs:
        run["params"] = {**run["params"], "report": {"metric": "minority_recall"}}
    write_runs(tmp_path, runs)
    main(["report", "--results", str(tmp_path), "--out", str(tmp_path / "report")])
    text = (tmp_path / "report" / "report.md").read_text()
    # By balanced accuracy imbalanced would lead these runs; by minority recall smate does.
    assert "| minority recall [95% interval]" in text and "Use **smate**: the highest minority recall here" in text


def test_the_readmes_quote_the_digits_screens_answer_as_its_report_gives_it():
    report = (REPO / "results" / "digits-screen" / "report" / "report.md").read_text()
    answer = next(line for line in report.splitlines() if line.startswith("Use **"))
    for readme in (REPO / "README.md", REPO / "results" / "README.md"):
        lines = readme.read_text().splitlines()
        start = next(index for index, line in enumerate(lines) if line.startswith("> Use **"))
        quoted = itertools.takewhile(lambda line: line.startswith("> "), lines[start:])
        assert " ".join(line[2:] for line in quoted) == answer, readme


def _cells(row):
    """A Markdown table row's cells."""
    return [cell.strip() for cell in row.strip("|").split("|")]


def _table_rows(lines):
    """A Markdown table's body rows as lists of cells, from the lines from its header on."""
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines))
    return [_cells(row) for row in table[2:]]


def test_results_readme_quotes_the_budget_studys_means_as_its_report_gives_them():
    report = (REPO / "results" / "budget-cpu" / "report" / "sweep.md").read_text().splitlines()
    header = next(index for index, line in enumerate(report) if line.startswith("| method"))
    means = {(row[0], row[1]): (row[3].split(" ±")[0], row[4].split(" ±")[0]) for row in _table_rows(report[header:])}
    readme = (REPO / "results" / "README.md").read_text().splitlines()
    section = next(index for index, line in enumerate(readme) if line.startswith("## The classifier's budget"))
    start = next(index for index in range(section, len(readme)) if readme[index].startswith("| epochs"))
    methods = _cells(readme[start])[1:]
    quoted = _table_rows(readme[start:])
    assert len(quoted) == 3 and len(methods) == 5
    for row in quoted:
        assert [tuple(cell.split(" / ")) for cell in row[1:]] == [means[(method, row[0])] for method in methods], row


def test_results_readme_quotes_the_recipe_studys_transfers_as_its_json_gives_them():
    study = json.loads((REPO / "results" / "gan-recipes-cpu" / "recipes.json").read_text())["recipes"]
    readme = (REPO / "results" / "README.md").read_text().splitlines()
    section = next(index for index, line in enumerate(readme) if line.startswith("## GAN recipes at paper-cpu's scale"))
    start = next(index for index in range(section, len(readme)) if readme[index].startswith("| recipe (seed)"))
    quoted = _table_rows(readme[start:])
    assert len(quoted) == sum(len(entry["seeds"]) for entry in study.values())
    for row in quoted:
        recipe, seed = row[0].removesuffix(")").split(" (")
        scores = study[recipe]["seeds"][seed]["transferred"]
        assert [cell.strip("*") for cell in row[2:]] == [
            f"{scores['steps']:,}", f"{scores['frechet_distance']:.1f}", f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}", f"{100 * scores['called_truck']:.1f}%" + (" (collapsed)" if scores["collapsed"] else "")], row
