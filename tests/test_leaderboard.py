"""The answer on a user's own data: the leaderboard's costs, comparisons and the one recommendation."""

import json

from smate.config import defaults
from smate.report.leaderboard import answer, method_costs, recommendation

METHODS = ["imbalanced", "oversample", "class_weight", "undersample", "smate"]


def _run(method, seed, value, seconds):
    return {"method": method, "seed": seed, "balanced_accuracy": value, "seconds": {"train": seconds},
            "params": {**defaults(), "methods": METHODS}, "generator_seed": seed}


def _grouped(values, seconds):
    return {method: {seed: _run(method, seed, value, seconds[method]) for seed, value in enumerate(per_seed)}
            for method, per_seed in values.items()}


def test_the_best_method_is_named_with_the_cheapest_one_no_test_tells_from_it():
    values = {"imbalanced": [0.60, 0.602, 0.598, 0.601, 0.60], "oversample": [0.80, 0.801, 0.799, 0.80, 0.802],
              "class_weight": [0.80, 0.76, 0.82, 0.77, 0.79], "undersample": [0.55, 0.552, 0.549, 0.551, 0.55]}
    seconds = {"imbalanced": 10, "oversample": 100, "class_weight": 20, "undersample": 5}
    grouped = _grouped(values, seconds)
    lines, claims = answer(grouped, "balanced_accuracy", {m: float(s) for m, s in seconds.items()})
    sentence = lines[1]
    assert sentence.startswith("Use **oversample**: the highest balanced acc. here")
    # undersample is cheaper still, but the test finds it worse; class_weight it cannot tell from the leader.
    assert "**class_weight** costs 20 s a seed against 100 s and cannot be told from it with 5 seeds" in sentence
    assert "seeds would separate them if that difference is real" in sentence
    verdicts = {(c["section"], c["worse"] if c["section"] == "leader" else c["better"]): c["verdict"] for c in claims}
    assert verdicts[("leader", "undersample")] == "holds" and verdicts[("leader", "class_weight")] == "not significant"
    assert verdicts[("baseline", "oversample")] == "holds" and verdicts[("baseline", "undersample")] == "does not hold"
    table = lines[-1]
    assert table.index("| oversample ") < table.index("| class_weight ") < table.index("| undersample ")


def test_a_leader_every_other_method_trails_is_named_alone():
    values = {"imbalanced": [0.5, 0.51, 0.49, 0.5], "oversample": [0.8, 0.82, 0.81, 0.8]}
    grouped = _grouped(values, {"imbalanced": 10, "oversample": 30})
    lines, _ = answer(grouped, "balanced_accuracy", {"imbalanced": 10.0, "oversample": 30.0})
    assert lines[1] == ("Use **oversample**: the highest balanced acc. here, 80.75%, and a paired test after Holm's "
                        "correction finds every other method worse.")


def test_a_generator_methods_cost_counts_the_generator_trainings_its_images_needed(tmp_path):
    (tmp_path / "keys").mkdir()
    for name, seconds in (("pretrain_gan@0", 100.0), ("transfer_gan@smate-0", 20.0), ("synthesize@smate-0", 5.0),
                          ("transfer_gan@smate-1", 30.0), ("synthesize@smate-1", 5.0), ("train@smate-0", 7.0)):
        (tmp_path / "keys" / f"{name}.json").write_text(json.dumps({"key": "k", "seconds": seconds}))
    grouped = _grouped({"smate": [0.7, 0.7], "imbalanced": [0.6, 0.6]}, {"smate": 7, "imbalanced": 6})
    for seed, run in grouped["smate"].items():
        run["params"]["gan"] = {**run["params"]["gan"], "generators": "shared_pretrain", "seed": 0}
    costs = method_costs(grouped, [tmp_path])
    # Each seed: its classifier run, its own transfer and draw, and the one shared pretraining, counted whole.
    assert costs["smate"] == (7 + 100 + 20 + 5 + 7 + 100 + 30 + 5) / 2 and costs["imbalanced"] == 6
    # A transfer resumed from its checkpoints keeps its last sitting's seconds in its key; its epochs hold the rest.
    history = tmp_path / "gan" / "smate" / "seed-1" / "generators" / "truck" / "history.json"
    history.parent.mkdir(parents=True)
    history.write_text(json.dumps({"history": [{"epoch": 1, "seconds": 40.0}, {"epoch": 2, "seconds": 50.0}]}))
    assert method_costs(grouped, [tmp_path])["smate"] == (7 + 100 + 20 + 5 + 7 + 100 + 90 + 5) / 2


def test_one_seed_recommends_without_a_test():
    grouped = _grouped({"imbalanced": [0.5], "oversample": [0.7]}, {"imbalanced": 10, "oversample": 30})
    lines, _ = answer(grouped, "balanced_accuracy", {"imbalanced": 10.0, "oversample": 30.0})
    assert lines[1].startswith("Use **oversample**") and "imbalanced" in lines[1]
    assert recommendation(["oversample", "imbalanced"], grouped, "balanced_accuracy",
                          {"imbalanced": 10.0, "oversample": 30.0},
                          {"imbalanced": {"verdict": "untested (1 seed)", "n": 1, "mean_difference": 0.2,
                                          "paired": [0.2]}}).endswith("(-20.00 points).")


def test_a_cheap_method_far_behind_the_leader_is_followed_by_the_cheapest_within_a_point():
    values = {"imbalanced": [0.60, 0.70, 0.65], "oversample": [0.90, 0.91, 0.92],
              "class_weight": [0.899, 0.905, 0.913], "undersample": [0.70, 0.95, 0.80]}
    seconds = {"imbalanced": 10, "oversample": 100, "class_weight": 30, "undersample": 5}
    lines, claims = answer(_grouped(values, seconds), "balanced_accuracy", {m: float(s) for m, s in seconds.items()})
    verdicts = {c["worse"]: c["verdict"] for c in claims if c["section"] == "leader"}
    assert verdicts["undersample"] == verdicts["class_weight"] == "not significant"
    # undersample is the cheapest no test tells from the leader, 9.3 points behind; class_weight trails by 0.4.
    assert "**undersample** costs 5 s a seed against 100 s and cannot be told from it with 3 seeds (-9.33 points)" in lines[1]
    assert lines[1].endswith("The cheapest within 1 point of it is **class_weight**, 30 s a seed (-0.43 points).")
