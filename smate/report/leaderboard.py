"""The user's question, answered first on data that is not the paper's: which method to use. A leaderboard on
report.metric (mean and 95% interval over seeds, and each method's cost), each method's paired difference from
imbalanced and from the leader with Holm-corrected verdicts, and one recommendation: the best method, and the
cheapest one no test tells from it."""

import numpy as np
from tabulate import tabulate

from ..config import RANKED, pretrain_seed_of
from ..rebalance import REBALANCERS
from .labels import METRIC_LABELS
from .records import generator_seed
from .stage_times import stage_seconds
from .stats import ALPHA, spread, seeds_needed, tested
from .tables import verdict_words

BASELINE = "imbalanced"  # doing nothing: what every method is first measured against


def method_costs(grouped, folders):
    """{method: mean seconds per seed}: its classifier run (a decoupled method's includes the run whose network it
    re-fits) and the generator trainings its images need, from the stages' recorded wall times (the majority
    pretraining counted whole for each method that transfers from it)."""
    seconds_of = stage_seconds(folders)
    costs = {}
    for method, seeds in grouped.items():
        per_seed = []
        for seed, run in seeds.items():
            seconds = sum(run.get("seconds", {}).values())
            base = getattr(REBALANCERS[method], "base_method", None) if method in REBALANCERS else None
            if base and seed in grouped.get(base, {}):
                seconds += sum(grouped[base][seed].get("seconds", {}).values())
            seconds += sum(seconds_of.get(name, 0.0) for name in _generator_stages(method, run))
            per_seed.append(seconds)
        costs[method] = float(np.mean(per_seed))
    return costs


def _generator_stages(method, run):
    """The generator stages a generator method's run drew on (none for another method)."""
    if method not in REBALANCERS or REBALANCERS[method].kind != "generator":
        return []
    cls, seed = REBALANCERS[method], generator_seed(run)
    names = [f"transfer_gan@{method}-{seed}", f"synthesize@{method}-{seed}"]
    names += [f"pretrain_gan@{pretrain_seed_of(run['params'], seed)}"] if cls.pretrained else []
    return names + ([f"guide_net@{seed}"] if cls.guided else [])


def answer(grouped, metric, costs):
    """The leaderboard, the paired comparisons and the recommendation, as report lines; and the tested claims."""
    means = {method: float(np.mean([run[metric] for run in seeds.values()])) for method, seeds in grouped.items()}
    order = sorted(means, key=lambda method: -means[method])
    choices = [method for method in order if not ceiling(method)]
    leader = choices[0]
    against_baseline = _against(grouped, metric, [m for m in order if m != BASELINE], BASELINE, "baseline") \
        if BASELINE in grouped else {}
    against_leader = _against(grouped, metric, choices[1:], leader, "leader")
    label = METRIC_LABELS[metric]
    rows = []
    for method in order:
        mean, _, half = spread([run[metric] for run in grouped[method].values()])
        interval = "" if half != half else f" [{100 * (mean - half):.2f}, {100 * (mean + half):.2f}]"
        rank = choices.index(method) + 1 if method in choices else "-"
        name = f"{method} (ceiling: the data before the cut)" if ceiling(method) else method
        rows.append([rank, name, len(grouped[method]), f"{100 * mean:.2f}{interval}", f"{costs[method]:.0f}",
                     _cell(against_baseline.get(method)), _cell(against_leader.get(method))])
    headers = ["rank", "method", "n", f"{label} [95% interval]", "seconds per seed",
               f"against {BASELINE} (points)", f"against {leader} (points)"]
    lines = [
        "### Which method to use",
        recommendation(choices, grouped, metric, costs, against_leader),
        f"Each method's {label} over seeds (mean and 95% t-interval, in percent; report.metric picks the metric: "
        f"{', '.join(RANKED)}), its cost in seconds per seed (its classifier run and the generator trainings its "
        f"images need), and its paired difference from {BASELINE} and from the leader: one-sided paired t-tests, "
        "Holm's correction over each column's comparisons; where not significant, the smallest difference the test "
        "would have detected with 80% power.",
        tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)]
    claims = [{k: v for k, v in claim.items() if k != "paired"} for claim in [*against_baseline.values(),
                                                                              *against_leader.values()]]
    return lines, claims


def ceiling(method):
    """A reference method that is no option on the user's data (full: the train set before the minority was cut)."""
    return method != BASELINE and method in REBALANCERS and REBALANCERS[method].kind == "reference"


def _against(grouped, metric, methods, other, section):
    """{method: its claim} that each of `methods` beats `other` (the leader: that the leader beats each)."""
    if section == "leader":
        specs = [{"id": f"{other}_beats_{m}_{metric}", "text": f"{other} beats {m}", "metric": metric, "better": other,
                  "worse": m} for m in methods]
    else:
        specs = [{"id": f"{m}_beats_{other}_{metric}", "text": f"{m} beats {other}", "metric": metric, "better": m,
                  "worse": other} for m in methods]
    claims = tested(section, specs, grouped, [])
    sign = -1 if section == "leader" else 1  # each claim's paired differences, better minus worse
    for claim, method in zip(claims, methods):
        seeds = sorted(set(grouped[method]) & set(grouped[other]))
        claim["paired"] = [sign * (grouped[method][s][metric] - grouped[other][s][metric]) for s in seeds]
    return dict(zip(methods, claims))


def _cell(claim):
    if claim is None:
        return ""
    difference = claim["mean_difference"]
    if difference is None:
        return claim["verdict"]
    sign = -1 if claim["section"] == "leader" else 1
    return f"{100 * sign * difference:+.1f}: {verdict_words(claim)}"


# A mean difference smaller than this (a fraction) is one no user would choose a costlier method for: the
# budget study's margin too (smate/pipeline/sweep.py, SETTLED).
PRACTICAL = 0.01


def recommendation(order, grouped, metric, costs, against_leader):
    """One sentence: the best of the methods `order` ranks (best first), and the cheapest that no test tells from
    it, with the seeds that would separate them if their observed difference is real; where that one trails by
    more than PRACTICAL, the cheapest that trails by less, since few seeds cannot tell large gaps apart either."""
    leader = order[0]
    mean = 100 * np.mean([run[metric] for run in grouped[leader].values()])
    best = f"Use **{leader}**: the highest {METRIC_LABELS[metric]} here, {mean:.2f}%"
    close = [m for m in order[1:] if not against_leader[m]["verdict"].startswith("holds")]
    cheaper = [m for m in close if costs[m] < costs[leader]]
    if not close:
        return f"{best}, and a paired test after Holm's correction finds every other method worse."
    if not cheaper:
        return f"{best}; {', '.join(close)} cannot be told from it, and none costs less."
    cheapest = min(cheaper, key=lambda m: costs[m])
    claim = against_leader[cheapest]
    sentence = (f"{best}. **{cheapest}** costs {costs[cheapest]:.0f} s a seed against {costs[leader]:.0f} s and cannot "
                f"be told from it with {claim['n']} seed{'s' if claim['n'] != 1 else ''} "
                f"({_points(claim['mean_difference'])} points)")
    paired = claim["paired"]
    sd = float(np.std(paired, ddof=1)) if len(paired) > 1 else 0.0
    if not (sd > 0 and claim["mean_difference"] > 0):
        sentence += "."
    else:
        needed = seeds_needed(sd, claim["mean_difference"], ALPHA / len(against_leader))
        sentence += ("; no number of seeds up to 200 would separate a difference that small." if needed is None else
                     f"; about {needed} seeds would separate them if that difference is real.")
    near = [m for m in cheaper if abs(against_leader[m]["mean_difference"]) < PRACTICAL]
    if claim["mean_difference"] < PRACTICAL or not near:
        return sentence
    closest = min(near, key=lambda m: costs[m])
    return (sentence + f" The cheapest within {100 * PRACTICAL:g} point of it is **{closest}**, {costs[closest]:.0f} s "
                       f"a seed ({_points(against_leader[closest]['mean_difference'])} points).")


def _points(behind):
    """How far a method trails the leader, in signed points ("-0.00" never: two methods may tie)."""
    return f"{-100 * behind + 0.0:+.2f}"
