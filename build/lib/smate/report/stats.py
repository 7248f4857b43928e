"""The claims' statistics, pure functions of the runs grouped by method: spreads over seeds, one-sided paired
t-tests, Holm's correction, the verdict that follows from them, and the smallest difference each test could see."""

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower

from ..config import generator_methods
from .records import generator_seed


ALPHA = 0.05
POWER = 0.8  # the detectable difference is the one a test would see four times in five


def spread(values):
    """Mean, sample std and the 95% t-interval half-width of a list of per-seed values."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float(values.mean()), float("nan"), float("nan")
    std = values.std(ddof=1)
    return float(values.mean()), float(std), float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))


def _opponents(claim):
    return claim["worse"] if isinstance(claim["worse"], list) else [claim["worse"]]


def _contender(claim, grouped):
    """The method a claim says wins, and how many it was picked from: for `better: {best_of: [...]}`, the
    listed method with runs whose mean `metric` is highest (None, 0 when none has runs)."""
    better = claim["better"]
    if isinstance(better, str):
        return better, 1
    ran = [method for method in better["best_of"] if grouped.get(method)]
    if not ran:
        return None, 0

    def mean(method):
        return np.mean([run[claim["metric"]] for run in grouped[method].values()])

    return max(ran, key=mean), len(ran)


def test_claim(claim, grouped):
    """One-sided paired t-tests over the seeds the methods share: does `better` beat each of `worse` on `metric`
    (a higher value, or with `lower_is_better` a lower one)? `p_value` is the largest p of those tests (it
    holds only when `better` beats each, an intersection-union test); `p_opposite` is the smallest p of the
    opposite tests times the number of opponents (any one beating `better` refutes it, so the pick of that
    one is paid for, Bonferroni). A best-of `better` multiplies both by the number of methods it was picked
    from. The verdict here is before correction over the claims tested together (`_tested` corrects it)."""
    worse = _opponents(claim)
    contender, picked_from = _contender(claim, grouped)
    text = claim["text"] if isinstance(claim["better"], str) or contender is None else \
        f"{claim['text']} ({contender}, best of {picked_from})"
    result = {"id": claim["id"], "claim": text, "metric": claim["metric"], "better": contender, "worse": " ".join(worse)}
    missing = [f"{m} has no runs" for m in [contender, *worse] if m and not grouped.get(m)]
    if contender is None:
        missing.insert(0, f"none of {', '.join(claim['better']['best_of'])} has runs")
    if missing:
        return _not_run(result, missing[0])
    better = grouped[contender]
    seeds = sorted(set(better).intersection(*(grouped[m] for m in worse)))
    missing = [f"{m}-{s} has no {claim['metric']}" for m in [contender, *worse] for s in seeds
               if claim["metric"] not in grouped[m][s]]
    if missing:
        return _not_run(result, missing[0])
    sign = -1 if claim.get("lower_is_better") else 1  # so that "greater" always means better
    a = sign * np.array([better[s][claim["metric"]] for s in seeds])
    tested = len(seeds) > 1
    differences, greater, less, spreadless, sds = [], [], [], [], []
    for method in worse:
        b = sign * np.array([grouped[method][s][claim["metric"]] for s in seeds])
        differences.append(float((a - b).mean()))
        sds.append(float(np.std(a - b, ddof=1)) if len(seeds) > 1 else None)
        if tested:
            # Identical values leave the t statistic undefined; neither direction is shown.
            same = not np.any(a != b)
            # Differences equal in every seed (up to rounding) give t an infinite value and p a meaningless 0.
            spreadless.append(not same and np.ptp(a - b) <= 1e-9 * max(1.0, float(np.abs(a - b).max())))
            if spreadless[-1]:
                continue
            greater.append(1.0 if same else float(stats.ttest_rel(a, b, alternative="greater").pvalue))
            less.append(1.0 if same else float(stats.ttest_rel(a, b, alternative="less").pvalue))
    if tested and any(spreadless):
        return {**result, "n": len(seeds), "mean_difference": min(differences), "p_value": None, "p_opposite": None,
                "verdict": "untested (the same difference in every seed)"}
    p_value = min(1.0, picked_from * max(greater)) if tested else None
    p_opposite = min(1.0, picked_from * len(worse) * min(less)) if tested else None
    verdict = verdict_of(p_value, p_opposite) if tested else f"untested ({len(seeds)} seed)"
    return {**result, "n": len(seeds), "mean_difference": min(differences), "p_value": p_value, "p_opposite": p_opposite,
            "verdict": verdict, "picked_from": picked_from, "difference_sds": sds}


def verdict_of(p_value, p_opposite):
    """holds, does not hold (the opposite test significant) or not significant, from (corrected) p-values."""
    if p_value < ALPHA:
        return "holds"
    if p_opposite < ALPHA:
        return "does not hold"
    return "not significant"


def _not_run(result, why):
    return {**result, "n": 0, "mean_difference": None, "p_value": None, "p_opposite": None, "verdict": f"not run ({why})"}


def holm(p_values):
    """Holm's step-down adjustment of a list of p-values (None stays None)."""
    present = [(i, p) for i, p in enumerate(p_values) if p is not None]
    adjusted = [None] * len(p_values)
    if present:
        corrected = multipletests([p for _, p in present], method="holm")[1]
        for (i, _), value in zip(present, corrected):
            adjusted[i] = float(value)
    return adjusted


def holm_levels(p_values):
    """The level Holm's step-down tests each p-value at: ALPHA over the claims not yet passed, in ascending order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    levels = [None] * len(p_values)
    for rank, i in enumerate(order):
        levels[i] = ALPHA / (len(p_values) - rank)
    return levels


def detectable_difference(sd, n, level):
    """The smallest mean paired difference a one-sided paired t-test at `level` over `n` seeds detects with
    POWER, given the spread (sample sd) of the paired differences; None when n < 2 or the spread is 0."""
    if n < 2 or sd is None or not sd > 0:
        return None
    return float(TTestPower().solve_power(nobs=n, alpha=level, power=POWER, alternative="larger") * sd)


def seeds_needed(sd, difference, level, most=200):
    """The seeds a one-sided paired t-test at `level` needs to detect a mean difference `difference` with POWER,
    given the spread of the paired differences (None past `most`, or with no spread to size a test by)."""
    if not sd > 0:
        return None
    for n in range(2, most + 1):
        if detectable_difference(sd, n, level) <= difference:
            return n
    return None


def source_verdict(claim, numbers):
    """What one source's single runs say of a claim: 'yes'/'no' with its numbers, or '' when it lacks a row."""
    if not isinstance(claim["better"], str):
        return ""
    rows = [numbers.get(method) for method in [claim["better"], *_opponents(claim)]]
    if not all(rows):
        return ""
    better, *worse = (100 * row[claim["metric"]] for row in rows)
    beaten = all(better > value for value in worse)
    return f"{'yes' if beaten else 'no'} ({better:g} vs {', '.join(f'{value:g}' for value in worse)})"


def tested(section, specs, grouped, sources):
    """Each claim of `specs` tested, Holm's correction over the claims tested together applied to both sides
    (the p that it holds and the p that the opposite holds), the verdict from the corrected p-values, and each
    source's reading of its own runs. A claim comparing a generator method trained once is descriptive: its
    seeds vary the draw and the classifier, not the generator, so it is left out of the family and has no verdict."""
    claims = [{"section": section, **test_claim(spec, grouped)} for spec in specs]
    for claim in claims:
        trainings = generator_trainings(claim, grouped)
        claim["generator_trainings"] = trainings
        if claim["p_value"] is not None and trainings is not None and trainings < 2:
            claim["verdict"] = f"descriptive ({trainings} generator)"
    family = [c for c in claims if c["p_value"] is not None and not c["verdict"].startswith("descriptive")]
    for raw, corrected in (("p_value", "p_holm"), ("p_opposite", "p_opposite_holm")):
        for claim, adjusted in zip(family, holm([c[raw] for c in family])):
            claim[corrected] = adjusted
    for claim, level in zip(family, holm_levels([c["p_value"] for c in family])):
        # The claim must beat each opponent at its level, a best-of pick paying for its choice: the widest of them.
        sizes = [detectable_difference(sd, claim["n"], level / claim["picked_from"]) for sd in claim["difference_sds"]]
        claim["detectable_difference"] = None if None in sizes else max(sizes)
    for claim in claims:
        claim.setdefault("p_holm", None)
        claim.setdefault("p_opposite_holm", None)
        claim.setdefault("detectable_difference", None)
        claim.pop("picked_from", None)
        claim.pop("difference_sds", None)
        if claim in family:
            claim["verdict"] = verdict_of(claim["p_holm"], claim["p_opposite_holm"])
    for claim, spec in zip(claims, specs):
        for name, numbers in sources:
            claim[name] = source_verdict(spec, numbers)
    return claims


def generator_trainings(claim, grouped):
    """The fewest generator trainings behind any generator method a claim compares, over its paired seeds
    (None when it compares no generator method). Runs that record no generator seed drew from one generator."""
    counts = []
    for method in [claim["better"], *claim["worse"].split()]:
        runs = grouped.get(method or "", {})
        if runs and method in generator_methods(next(iter(runs.values()))["params"]):
            counts.append(trainings(runs.values()))
    return min(counts) if counts else None


def trainings(runs):
    """How many generator trainings a generator method's runs drew from."""
    return len({generator_seed(run) for run in runs})
