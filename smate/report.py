"""The paper's table, paper vs reproduced, and the paper's claims tested over seeds, from results files alone.

Reads OUT/runs/*/metrics.json; needs no model and no GPU. Runs are grouped by classifier, so the
paper's weak-classifier regime (keras_cnn) and the strong one (fast) each get their own tables.
"""

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from scipy import stats
from tabulate import tabulate

from . import atomic, figures
from .config import generator_methods, plain_methods
from .errors import SmateError
from .summary import csv_value, records_csv

METRICS = ("accuracy", "minority_recall", "balanced_accuracy", "gmean", "minority_f1")
LABELS = {"accuracy": "test accuracy", "minority_recall": "minority recall", "balanced_accuracy": "balanced acc.",
          "gmean": "G-mean", "minority_f1": "minority F1"}
ALPHA = 0.05


def load_runs(results):
    paths = sorted(Path(results).glob("runs/*/metrics.json"))
    if not paths:
        raise SmateError(f"no runs under '{results}/runs/'; run `smate-bench run` (or dvc repro) first")
    runs = [json.loads(path.read_text()) for path in paths]
    qualities = {method: _quality(results, method) for method in {run["method"] for run in runs}}
    for run in runs:
        _add_generator_distance(run, qualities[run["method"]])
    return runs


def _quality(results, method):
    path = Path(results) / "gan" / method / "quality.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _add_generator_distance(run, quality):
    """A generator method's run gains the Frechet distance of the images its own seed drew (the mean over the
    minority classes), which the claims comparing generators test seed by seed."""
    if quality is None:
        return
    by_class = [scores.get("frechet_distance_by_seed", {}).get(str(run["seed"])) for scores in quality["classes"].values()]
    if by_class and None not in by_class:
        run["generator_frechet_distance"] = float(np.mean(by_class))


def configured_runs(folder, runs):
    """The runs that `folder`'s summary.csv names (the configuration last summarised there) and that share its
    data and classifier parameters, and a line for each kind of run left out. Without a summary, every run."""
    summary = Path(folder) / "summary.csv"
    if not summary.is_file():
        return runs, []
    with open(summary, newline="") as handle:
        named = {(row["method"], int(seed)) for row in csv.DictReader(handle) for seed in row["seeds"].split()}
    kept = [run for run in runs if (run["method"], run["seed"]) in named]
    unnamed = [run for run in runs if (run["method"], run["seed"]) not in named]
    if not kept:
        raise SmateError(f"none of the runs under '{folder}/runs/' is one that its summary.csv names; "
                         "rerun `smate-bench summarize` with the params of those runs")

    def setting(run):
        return json.dumps([_data_setting(run["params"]["data"]), run["params"]["classify"]], sort_keys=True)

    common = Counter(map(setting, kept)).most_common(1)
    other = [run for run in kept if setting(run) != common[0][0]]
    left_out = []
    for runs_out, why in ((unnamed, "its summary.csv does not name (methods or seeds since removed)"),
                          (other, "were made with other data or classifier parameters than the rest")):
        if runs_out:
            names = ", ".join(f"{run['method']}-{run['seed']}" for run in runs_out)
            left_out.append(f"Left out of `{folder}`: {len(runs_out)} runs that {why}: {names}.")
    return [run for run in kept if run not in other], left_out


def _profile(data):
    """A run's imbalance profile; runs made before profiles existed used the minority one."""
    return data.get("profile", "minority")


def _data_setting(data):
    """The data params as they bear on a run: a profile's split ignores the other profiles' parameter."""
    data = {**data, "profile": _profile(data)}
    unread = "imbalance_factor" if data["profile"] == "minority" else "ratio"
    return {key: value for key, value in data.items() if key != unread}


def load_reference(path):
    path = Path(path)
    if not path.is_file():
        raise SmateError(f"'{path}' is missing; it holds the paper's numbers (see paper/reference.yaml in the repository)")
    return yaml.safe_load(path.read_text())


def by_method(runs):
    """{method: {seed: run}} in the order methods first appear in the runs' params."""
    params = runs[0]["params"]
    order = plain_methods(params) + generator_methods(params)
    grouped = {}
    for run in sorted(runs, key=lambda r: (order.index(r["method"]) if r["method"] in order else len(order), r["seed"])):
        grouped.setdefault(run["method"], {})[run["seed"]] = run
    return grouped


def spread(values):
    """Mean, sample std and the 95% t-interval half-width of a list of per-seed values."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float(values.mean()), float("nan"), float("nan")
    std = values.std(ddof=1)
    return float(values.mean()), float(std), float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n))


def paper_table(grouped):
    rows = []
    for method, seeds in grouped.items():
        row = {"method": method, "n": len(seeds), "seeds": " ".join(map(str, seeds))}
        for metric in METRICS:
            row[metric], row[f"{metric}_std"], row[f"{metric}_ci95"] = spread([r[metric] for r in seeds.values()])
        rows.append(row)
    return rows


def _cell(row, metric):
    mean, std, half = (100 * row[k] for k in (metric, f"{metric}_std", f"{metric}_ci95"))
    if np.isnan(std):
        return f"{mean:.2f}"
    return f"{mean:.2f} ± {std:.2f} [{mean - half:.2f}, {mean + half:.2f}]"


SOURCES = (("table", "paper"), ("notebook", "notebook"))


def _sources(reference):
    """(column name, {method: row}) for each source of published numbers the reference holds."""
    return [(name, reference[key]["rows"]) for key, name in SOURCES if key in reference]


def paper_vs_reproduced(rows, reference):
    """One line per method that a source reports: each source's accuracy and recall beside ours."""
    sources = _sources(reference)
    table = []
    for row in rows:
        published = [numbers.get(row["method"]) for _, numbers in sources]
        if not any(published):
            continue
        label = reference["table"]["rows"].get(row["method"], {}).get("paper_label", "")
        cells = [row["method"], label]
        for metric, scale in (("accuracy", "{:.2f}"), ("minority_recall", "{:.1f}")):
            cells += [scale.format(100 * theirs[metric]) if theirs else "" for theirs in published]
            cells.append(f"{100 * row[metric]:.2f}")
        table.append(cells)
    names = [name for name, _ in sources]
    headers = (["method", "paper's row"] + [f"{name} acc." for name in names] + ["our acc."]
               + [f"{name} recall" for name in names] + ["our recall"])
    return headers, table


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
    differences, greater, less, spreadless = [], [], [], []
    for method in worse:
        b = sign * np.array([grouped[method][s][claim["metric"]] for s in seeds])
        differences.append(float((a - b).mean()))
        if tested:
            # Identical values leave the t statistic undefined; neither direction is shown.
            same = not np.any(a != b)
            greater.append(1.0 if same else float(stats.ttest_rel(a, b, alternative="greater").pvalue))
            less.append(1.0 if same else float(stats.ttest_rel(a, b, alternative="less").pvalue))
            # Differences equal in every seed (up to rounding) give t an infinite value and p a meaningless 0.
            spreadless.append(not same and np.ptp(a - b) <= 1e-9 * max(1.0, float(np.abs(a - b).max())))
    if tested and any(spreadless):
        return {**result, "n": len(seeds), "mean_difference": min(differences), "p_value": None, "p_opposite": None,
                "verdict": "untested (the same difference in every seed)"}
    p_value = min(1.0, picked_from * max(greater)) if tested else None
    p_opposite = min(1.0, picked_from * len(worse) * min(less)) if tested else None
    verdict = verdict_of(p_value, p_opposite) if tested else f"untested ({len(seeds)} seed)"
    return {**result, "n": len(seeds), "mean_difference": min(differences), "p_value": p_value, "p_opposite": p_opposite,
            "verdict": verdict}


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
    order = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted, running = [None] * len(p_values), 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[i] = running
    return adjusted


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


def _environment_line(runs):
    first = runs[0]
    device = first["environment"]["device"]
    seeds = sorted({run["seed"] for run in runs})
    return (f"Dataset: {first['dataset']['kind']} '{first['dataset']['root']}' (sha256 {first['dataset']['sha256'][:12]}); "
            f"{_cut_words(first['params']['data'], ', '.join(first['minority']))[0]}; seeds {seeds}; "
            f"device {device['name']} ({device['type']}); torch {first['environment']['packages']['torch']}; "
            f"{commits_line(runs)}")


def commits_line(runs):
    """The commit the runs came from, or every commit when they came from several."""
    commits = sorted({run["environment"]["git_commit"] for run in runs})
    return f"commit {commits[0]}" if len(commits) == 1 else f"commits {', '.join(commits)}"


def build_report(results, reference_path, out=None, reproduction=None):
    """Write the report for every classifier regime found in the results folders (one path or a list)
    to `out` (default: the first folder's report/); with `reproduction`, also write there what of the
    paper holds, for paper/REPRODUCTION.md."""
    folders = [Path(results)] if isinstance(results, (str, Path)) else [Path(r) for r in results]
    runs, left_out, seen = [], [], {}
    for folder in folders:
        kept, lines = configured_runs(folder, load_runs(folder))
        for run in kept:
            cell = (run["classifier"], run["method"], run["seed"])
            if seen.setdefault(cell, folder) != folder:
                raise SmateError(f"{run['classifier']} {run['method']} seed {run['seed']} has runs in both "
                                 f"'{seen[cell]}' and '{folder}'; report such folders one at a time")
        runs += kept
        left_out += lines
    reference = load_reference(reference_path)
    out = Path(out) if out else folders[0] / "report"
    sections, findings, claims_csv = [], [], []
    for regime in sorted({run["classifier"] for run in runs}):
        section, finding, claims = _regime(regime, [run for run in runs if run["classifier"] == regime], reference, out)
        sections.append(section)
        findings.append(finding)
        claims_csv += [{"classifier": regime, **claim} for claim in claims]
    with_gans = [folder for folder in folders if (folder / "gan").is_dir()]
    generator_figures = figures.draw_generators(with_gans[0], out / "figures") if with_gans else []
    qualities = _qualities(with_gans[0]) if with_gans else []
    if generator_figures or qualities:
        links = "\n".join(f"![{name}](figures/{name}.png)" for name in generator_figures)
        sections.append("\n\n".join(["## Generators", *(_generator_tables(qualities, out, with_gans[0]) if qualities else []), links]))
    findings.insert(0, _scale_finding(runs, reference, with_gans[0] if with_gans else None))
    if qualities:
        findings.append(_generator_finding(qualities))
    markdown = "# smate-bench report\n\n" + "\n\n".join(left_out + sections) + "\n"
    atomic.write_text(out / "report.md", markdown)
    atomic.write_text(out / "claims.csv", records_csv(claims_csv))
    if reproduction:
        sources = ", ".join(f"`{folder}`" for folder in folders)
        atomic.write_text(reproduction, f"# Reproducing SMate: what holds\n\nGenerated by `smate-bench report` from "
                          f"{sources}; do not edit by hand.\n\n" + "\n\n".join(findings) + "\n")
    print(markdown)
    return markdown


def _qualities(folder):
    """Each GAN method's quality.json (scores and the trainings its generators had), in name order."""
    return [json.loads(path.read_text()) for path in sorted(Path(folder).glob("gan/*/quality.json"))]


def _generator_tables(qualities, out, folder):
    """How long each generator trained, what it scores, and its last sample grid (copied into OUT/figures)."""
    trainings, scores, grids = [], [], []
    for quality in qualities:
        for name, stages_of_class in quality.get("generators", {}).items():
            for stage in stages_of_class:
                trainings.append([quality["variant"], name, stage["label"], stage["images"], stage["epochs"], stage["steps"]])
            last = stages_of_class[-1]["last_grid"]
            if last:
                # A copy beside the report keeps it whole wherever it is written, and its bytes the same.
                copy = Path("figures") / "generators" / f"{quality['variant']}_{name}.png"
                atomic.write_bytes(Path(out) / copy, (Path(folder) / last).read_bytes())
                grids.append(f"![{quality['variant']} {name}, last epoch]({copy.as_posix()})")
        for name, score in quality["classes"].items():
            recognised = score.get("classified_as_class", {})
            scores.append([quality["variant"], name, f"{score['frechet_distance']:.1f}", f"{score['precision']:.3f}",
                           f"{score['recall']:.3f}", f"{score['memorization']['ratio']:.3f}",
                           _percent(recognised.get("synthetic")), _percent(recognised.get("heldout"))])
    net = qualities[0]["feature_net"]
    return [
        "Trainings behind each GAN method's images (a step is one D and one G update on a batch):",
        tabulate(trainings, headers=["method", "class", "training", "images", "epochs", "steps"], tablefmt="github"),
        f"Scores on the penultimate features of a {net['classifier']} classifier trained on the full train set "
        f"(test accuracy {100 * net['test_accuracy']:.2f}%), against the held-out test images of the class. FD is the "
        "FID formula on these features, not comparable with Inception FID. \"called the class\": the share of images "
        "that classifier assigns to the class, for the generated images and, as the yardstick, held-out real ones.",
        tabulate(scores, headers=["method", "class", "FD", "precision", "recall", "memorization ratio",
                                  "generated called the class", "real called the class"], tablefmt="github"),
        "\n".join(grids),
    ]


def _percent(value):
    return "" if value is None else f"{100 * value:.1f}%"


def _scale_finding(runs, reference, gan_folder=None):
    """What these runs changed against the paper's setting, for REPRODUCTION.md. The GAN settings come from a
    generator method's own runs and the freeze from the generators' own records: other runs may be older."""
    paper = {item["what"]: item["value"] for item in reference.get("other_numbers", [])}
    params = runs[0]["params"]
    data = params["data"]
    drawing = [run for run in runs if run["method"] in generator_methods(run["params"])]
    gan = drawing[0]["params"].get("gan") if drawing else None
    per_class = data.get("max_train_per_class")
    minority = ", ".join(runs[0]["minority"])
    classifiers = sorted({run["classifier"] for run in runs})
    lines = [
        "## Scale of these runs against the paper",
        f"- Train set: {_first(per_class)} images of each class (the paper: {paper.get('train images per class', '?'):,}), "
        f"{_cut_words(data, minority)[1]}; test set: {_first(data.get('max_test_per_class'))} images of "
        f"each class (the paper: {paper.get('test images per class', '?'):,}).",
        f"- Classifiers: {', '.join(f'{c} ({_recipe_line(params, c)})' for c in classifiers)}; "
        f"seeds {sorted({run['seed'] for run in runs})} (the paper: one run, no seed).",
    ]
    if gan:
        freeze = _recorded_freeze(gan_folder) or [gan["transfer"]["freeze"]]
        lines.append(
            f"- Generators: {gan['train']['architecture']} with the {gan['train']['loss']} loss, batch "
            f"{gan['train']['batch_size']}, {gan['pretrain']['epochs']} pretraining epochs on the majority classes, "
            f"{gan['transfer']['epochs']} transfer epochs on the minority grown to {gan['transfer']['augment_to']:,} images "
            f"(the paper: the Brownlee DCGAN, {paper.get('minority images after augmentation (converged)', '?'):,} "
            f"augmented minority images), {' or '.join(map(str, freeze))} generator modules frozen in the transfer.")
    imbalanced = [run for run in runs if run["method"] == "imbalanced"]
    if per_class is not None and imbalanced:
        kept = sum(imbalanced[0]["train_counts"][name] for name in imbalanced[0]["minority"])
        lines.append(f"- Fewer images per class make every classifier weaker than the paper's, and {kept} minority "
                     "images make SMOTE's neighbourhoods and the GANs' data sparser: compare the methods with each "
                     "other here, not these numbers with the paper's.")
    return "\n".join(lines)


def _recorded_freeze(folder):
    """The frozen-module counts the transfers from a pretrained generator recorded, in order (empty without records)."""
    from .rebalance import REBALANCERS

    if folder is None:
        return []
    histories = Path(folder).glob("gan/*/**/generators/*/history.json")  # under seed-G/, or not in older results
    counts = {json.loads(path.read_text()).get("freeze") for path in histories
              if _variant_of(folder, path) in REBALANCERS and REBALANCERS[_variant_of(folder, path)].pretrained}
    return sorted(count for count in counts if count is not None)


def _variant_of(folder, path):
    """The GAN method whose folder under FOLDER/gan/ holds `path`."""
    return path.relative_to(folder).parts[1]


def _cut_words(data, minority):
    """How the train set was cut, short and as a phrase."""
    profile = _profile(data)
    if profile == "minority":
        return f"minority {minority} at ratio {data['ratio']}", f"the {minority} class cut to ratio {data['ratio']}"
    cut = f"the {profile} profile at imbalance factor {data['imbalance_factor']:g}"
    return f"{cut}, minority {minority}", f"{cut} (minority: {minority})"


def _first(count):
    return "all" if count is None else f"the first {count:,}"


def _recipe_line(params, classifier):
    recipe = params["classify"][classifier]
    # Runs made before keras_cnn had recipes name none; theirs was today's `ours`.
    named = f", the {recipe['recipe']} recipe" if "recipe" in recipe else ""
    return f"{recipe['epochs']} epochs, batch {recipe['batch_size']}{named}"


# Below this recall the generated images cover almost none of the real class's feature manifold.
MIN_GENERATOR_RECALL = 0.1


def _generator_finding(qualities):
    """What the generators' scores say about the verdicts on the GAN methods, for REPRODUCTION.md."""
    lines = ["## The generators behind the GAN rows"]
    weak = []
    for quality in qualities:
        for name, score in quality["classes"].items():
            recognised = score.get("classified_as_class")
            if not recognised:
                continue
            steps = sum(stage["steps"] for stage in quality.get("generators", {}).get(name, []))
            lines.append(f"- {quality['variant']} ({name}): {steps:,} GAN steps in all; its images cover "
                         f"{_percent(score['recall'])} of the real {name}s' feature manifold (recall) and a classifier "
                         f"trained on real data calls {_percent(recognised['synthetic'])} of them {name}s, against "
                         f"{_percent(recognised['heldout'])} of real held-out {name}s.")
            if score["recall"] < MIN_GENERATOR_RECALL or recognised["synthetic"] < recognised["heldout"] / 2:
                weak.append(quality["variant"])
    if weak:
        lines.append(f"The generators of {', '.join(weak)} are under-trained: their images cover under "
                     f"{MIN_GENERATOR_RECALL:.0%} of the real class (or a classifier recognises under half as many of "
                     "them as of real images). The verdicts on these methods are about under-trained generators, not "
                     "about what the method can do with a generator trained to convergence.")
    return "\n".join(lines)


def _replication_lines(grouped):
    """How each run's spread and budget should be read: what the seeds vary, and the optimizer steps."""
    # Each method's own runs say whether it draws from a generator: older runs' params list fewer methods.
    generators = [m for m, seeds in grouped.items() if m in generator_methods(next(iter(seeds.values()))["params"])]
    trained_once = [m for m in generators if _trainings(grouped[m].values()) < 2]
    replicated = [m for m in generators if m not in trained_once]
    lines = []
    if trained_once:
        lines.append(f"GAN rows ({', '.join(trained_once)}) are conditional on one generator per method, trained once; "
                     "each seed draws its own images from it and trains its own classifier, so their spread leaves "
                     "out the generator's training randomness.")
    if replicated:
        lines.append(f"GAN rows ({', '.join(replicated)}) replicate the generators too: each seed trained its own "
                     "(pretraining, transfer, the cGAN, SMate+'s guide) and drew its images from them.")
    budgets = []
    for method, seeds in grouped.items():
        run = next(iter(seeds.values()))
        budget = run.get("budget")
        if budget:
            budgets.append([method, sum(run["train_counts"].values()), budget["kind"], budget["epochs"], budget["optimizer_steps"]])
    if budgets:
        lines += ["Training budget of each method's runs (classify.budget: epochs gives each method its epochs over its "
                  "own train set, as the paper did; steps holds the optimizer steps equal):",
                  tabulate(budgets, headers=["method", "train images", "budget", "epochs", "optimizer steps"],
                           tablefmt="github")]
    return lines


def _regime(regime, runs, reference, out):
    """One classifier's report section, its findings for REPRODUCTION.md, and its tested claims."""
    grouped = by_method(runs)
    rows = paper_table(grouped)
    headers = ["method", "n"] + [LABELS[m] for m in METRICS]
    cells = [[row["method"], row["n"]] + [_cell(row, m) for m in METRICS] for row in rows]
    atomic.write_text(out / f"paper_table_{regime}.csv", _rows_csv(rows))
    atomic.write_text(out / f"paper_table_{regime}.tex",
                      tabulate(cells, headers=headers, tablefmt="latex_booktabs", disable_numparse=True) + "\n")
    profile = _profile(runs[0]["params"]["data"])
    sources = _sources(reference)
    claims = _tested("paper", reference["claims"], grouped, sources) if profile == "minority" else []
    beyond = _tested("beyond", reference.get("beyond", []), grouped, [])
    drawn = figures.draw_runs([run for seeds in grouped.values() for run in seeds.values()], out / "figures" / regime)
    if profile != "minority":
        tally = (f"These runs cut the train set by the {profile} profile, not as the paper did (one class cut to a "
                 "ratio): the paper's numbers and claims do not apply to them.")
    elif all(claim["p_value"] is None for claim in claims):
        tally = (f"None of the paper's {len(claims)} claims can be tested on these runs (a paired test needs two seeds "
                 "or more); the differences stand beside what the paper's and the notebook's single runs show.")
    else:
        tally = _tally(claims)
    head = [f"## Classifier: {regime}", _environment_line(runs), tally]
    names = [name for name, _ in sources]
    published_headers, published = paper_vs_reproduced(rows, reference)
    comparison = [] if profile != "minority" else [
        "### Paper vs reproduced",
        f"The paper ran each method once with a Keras CNN ({reference['table']['source']}); ours are means over seeds. "
        "The paper's 'Undersampled Data' row is the imbalanced set (trucks cut, the other classes whole), as the "
        "notebook shows, so it stands beside our `imbalanced`."
        + (f" The notebook is a second source: {reference['notebook']['source']}." if "notebook" in reference else ""),
        tabulate(published, headers=published_headers, tablefmt="github", disable_numparse=True),
        "### The paper's claims",
        f"One-sided paired t-tests over seeds: a claim holds when its Holm p < {ALPHA}, does not hold when the "
        "opposite test's Holm p is, and is otherwise not significant; Holm's correction runs over this section's "
        "claims, on each side. Against several methods a claim must beat each (the smallest difference, the largest "
        "p), and any one beating it refutes it (the smallest opposite p, times their number). A claim that compares a "
        "generator method trained once is descriptive, whatever its p. "
        f"{', '.join(names).capitalize()}: what the source's single runs show, with its numbers.",
        _claims_table(claims, names),
    ]
    extension = [] if not beyond else [
        "### Beyond the paper",
        "The same tests, of this suite's claims, with Holm's correction over them: the loss-based methods, SMate+ "
        "and the conditional GAN against the paper's field. A best-of claim picks the loss-based method with the highest mean among those run and "
        "multiplies its p-values by their number (Bonferroni), since the pick was made on these runs.",
        _claims_table(beyond, []),
    ]
    table = ["Cells: mean ± sample std [95% t-interval] over seeds, in percent; n = seeds.",
             tabulate(cells, headers=headers, tablefmt="github", disable_numparse=True), *_replication_lines(grouped)]
    figure_links = "### Figures\n\n" + "\n".join(f"![{name}](figures/{regime}/{name}.png)" for name in drawn)
    # REPRODUCTION.md gets the findings; the report puts the full table between the head and the comparison.
    findings = "\n\n".join(head + comparison)
    section = "\n\n".join(head + table + comparison + extension + [figure_links])
    return section, findings, claims + beyond


def _tally(claims):
    """How many of the paper's claims hold, do not hold, rest on one generator, after Holm's correction."""
    verdicts = Counter(claim["verdict"].split(" (")[0] for claim in claims)
    family = sum(claim["p_holm"] is not None for claim in claims)
    raw_holds = sum(claim["p_value"] is not None and claim["p_value"] < ALPHA for claim in claims
                    if claim["p_holm"] is not None)
    line = (f"Of the paper's {len(claims)} claims, {verdicts['holds']} hold and {verdicts['does not hold']} do not "
            f"hold with this classifier, after Holm's correction on both sides over the {family} tested together "
            f"({raw_holds} would hold before it)")
    if verdicts["descriptive"]:
        line += (f"; {verdicts['descriptive']} compare a generator trained once and are descriptive, their seeds "
                 "varying the draw and the classifier, not the generator")
    return line + "."


def _tested(section, specs, grouped, sources):
    """Each claim of `specs` tested, Holm's correction over the claims tested together applied to both sides
    (the p that it holds and the p that the opposite holds), the verdict from the corrected p-values, and each
    source's reading of its own runs. A claim comparing a generator method trained once is descriptive: its
    seeds vary the draw and the classifier, not the generator, so it is left out of the family and has no verdict."""
    claims = [{"section": section, **test_claim(spec, grouped)} for spec in specs]
    for claim in claims:
        trainings = _generator_trainings(claim, grouped)
        claim["generator_trainings"] = trainings
        if claim["p_value"] is not None and trainings is not None and trainings < 2:
            claim["verdict"] = f"descriptive ({trainings} generator)"
    family = [c for c in claims if c["p_value"] is not None and not c["verdict"].startswith("descriptive")]
    for raw, corrected in (("p_value", "p_holm"), ("p_opposite", "p_opposite_holm")):
        for claim, adjusted in zip(family, holm([c[raw] for c in family])):
            claim[corrected] = adjusted
    for claim in claims:
        claim.setdefault("p_holm", None)
        claim.setdefault("p_opposite_holm", None)
        if claim in family:
            claim["verdict"] = verdict_of(claim["p_holm"], claim["p_opposite_holm"])
    for claim, spec in zip(claims, specs):
        for name, numbers in sources:
            claim[name] = source_verdict(spec, numbers)
    return claims


def _generator_trainings(claim, grouped):
    """The fewest generator trainings behind any generator method a claim compares, over its paired seeds
    (None when it compares no generator method). Runs that record no generator seed drew from one generator."""
    counts = []
    for method in [claim["better"], *claim["worse"].split()]:
        runs = grouped.get(method or "", {})
        if runs and method in generator_methods(next(iter(runs.values()))["params"]):
            counts.append(_trainings(runs.values()))
    return min(counts) if counts else None


def _trainings(runs):
    """How many generator trainings a generator method's runs drew from."""
    return len({run.get("generator_seed", run["params"]["gan"]["seed"]) for run in runs})


def _p(value):
    return "" if value is None else f"{value:.4f}"


def _claims_table(claims, source_names):
    return tabulate([[c["claim"], *[c[name] for name in source_names], c["n"],
                      "" if c["mean_difference"] is None else f"{_points(c) * c['mean_difference']:+.2f}",
                      _p(c["p_value"]), _p(c["p_holm"]), _p(c["p_opposite"]), _p(c.get("p_opposite_holm")), c["verdict"]]
                     for c in claims],
                    headers=["claim", *source_names, "n", "difference (points)", "p-value", "Holm p", "opposite p",
                             "opposite Holm p", "verdict"],
                    tablefmt="github", disable_numparse=True)


def _points(claim):
    """Percentage points for the classification metrics (fractions); a generator's distance as it is."""
    return 100 if claim["metric"] in METRICS else 1


def _rows_csv(rows):
    return records_csv({k: csv_value(v) for k, v in row.items()} for row in rows)
