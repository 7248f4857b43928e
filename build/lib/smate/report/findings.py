"""The findings' prose for REPRODUCTION.md: the scale of the runs against the paper's, how to read the GAN rows
and their generators, and the tally of the claims."""

import json
from collections import Counter
from pathlib import Path

import numpy as np

from tabulate import tabulate

from ..config import generator_methods
from .labels import METRIC_LABELS
from .stats import ALPHA, POWER, trainings
from .tables import cut_words, percent


def scale_finding(runs, reference, gan_folder=None):
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
        f"- Train set: {first_count(per_class)} images of each class (the paper: {paper.get('train images per class', '?'):,}), "
        f"{cut_words(data, minority)[1]}; test set: {first_count(data.get('max_test_per_class'))} images of "
        f"each class (the paper: {paper.get('test images per class', '?'):,}).",
        f"- Classifiers: {', '.join(f'{c} ({recipe_line(params, c)})' for c in classifiers)}; "
        f"seeds {sorted({run['seed'] for run in runs})} (the paper: one run, no seed).",
    ]
    if gan:
        freeze = recorded_freeze(gan_folder) or [gan["transfer"]["freeze"]]
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


def recorded_freeze(folder):
    """The frozen-module counts the transfers from a pretrained generator recorded, in order (empty without records)."""
    from ..rebalance import REBALANCERS

    if folder is None:
        return []
    histories = Path(folder).glob("gan/*/**/generators/*/history.json")  # under seed-G/, or not in older results
    counts = {json.loads(path.read_text()).get("freeze") for path in histories
              if _variant_of(folder, path) in REBALANCERS and REBALANCERS[_variant_of(folder, path)].pretrained}
    return sorted(count for count in counts if count is not None)


def _variant_of(folder, path):
    """The GAN method whose folder under FOLDER/gan/ holds `path`."""
    return path.relative_to(folder).parts[1]


def first_count(count):
    return "all" if count is None else f"the first {count:,}"


def recipe_line(params, classifier):
    recipe = params["classify"][classifier]
    # Runs made before keras_cnn had recipes name none; theirs was today's `ours`.
    named = f", the {recipe['recipe']} recipe" if "recipe" in recipe else ""
    return f"{recipe['epochs']} epochs, batch {recipe['batch_size']}{named}"


# Below this recall the generated images cover almost none of the real class's feature manifold.
MIN_GENERATOR_RECALL = 0.1


def generator_finding(qualities):
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
                         f"{percent(score['recall'])} of the real {name}s' feature manifold (recall) and a classifier "
                         f"trained on real data calls {percent(recognised['synthetic'])} of them {name}s, against "
                         f"{percent(recognised['heldout'])} of real held-out {name}s.")
            if score["recall"] < MIN_GENERATOR_RECALL or recognised["synthetic"] < recognised["heldout"] / 2:
                weak.append(quality["variant"])
    if weak:
        lines.append(f"The generators of {', '.join(weak)} are under-trained: their images cover under "
                     f"{MIN_GENERATOR_RECALL:.0%} of the real class (or a classifier recognises under half as many of "
                     "them as of real images). The verdicts on these methods are about under-trained generators, not "
                     "about what the method can do with a generator trained to convergence.")
    return "\n".join(lines)


def pretraining_lines(curves):
    """Whether each majority pretraining was still improving when it stopped: its FD over its last fifth of minutes."""
    lines = []
    for seed, record in curves.items():
        curve = record["curve"]
        if len(curve) < 2:
            continue
        first, last = curve[0], curve[-1]
        cut = [point for point in curve if point["minutes"] >= 0.8 * last["minutes"]]
        before = max((point for point in curve if point["minutes"] < 0.8 * last["minutes"]), key=lambda p: p["minutes"],
                     default=first)
        change = last["frechet_distance"] - before["frechet_distance"]
        state = "still improving" if change < 0 else "no longer improving"
        lines.append(f"- Pretraining seed {seed}: FD {first['frechet_distance']:.1f} after {first['minutes']:.1f} min, "
                     f"{last['frechet_distance']:.1f} after {last['minutes']:.1f} min (recall {last['recall']:.3f}); over "
                     f"its last fifth ({len(cut)} snapshots) FD moved by {change:+.1f}: {state} when it stopped.")
    return (["The majority pretraining's quality as it trained (snapshots scored against held-out majority images):",
             "\n".join(lines)] if lines else [])


def replication_lines(grouped):
    """How each run's spread and budget should be read: what the seeds vary, and the optimizer steps."""
    # Each method's own runs say whether it draws from a generator: older runs' params list fewer methods.
    generators = [m for m, seeds in grouped.items() if m in generator_methods(next(iter(seeds.values()))["params"])]
    trained_once = [m for m in generators if trainings(grouped[m].values()) < 2]
    replicated = [m for m in generators if m not in trained_once]
    lines = []
    if trained_once:
        lines.append(f"GAN rows ({', '.join(trained_once)}) are conditional on one generator per method, trained once; "
                     "each seed draws its own images from it and trains its own classifier, so their spread leaves "
                     "out the generator's training randomness.")
    shared = [m for m in replicated if _shares_its_pretraining(m, grouped[m])]
    own = [m for m in replicated if m not in shared]
    if own:
        lines.append(f"GAN rows ({', '.join(own)}) replicate the generators too: each seed trained its own "
                     "(pretraining, transfer, the cGAN, SMate+'s guide) and drew its images from them.")
    if shared:
        lines.append(f"GAN rows ({', '.join(shared)}) replicate the transfers: each seed transferred its own generators "
                     "to its own minority images and drew from them, all from one majority pretraining (gan.generators: "
                     "shared_pretrain); their tests are conditional on that one pretrained generator.")
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


def _shares_its_pretraining(method, runs):
    from ..rebalance import REBALANCERS

    run = next(iter(runs.values()))
    return REBALANCERS[method].pretrained and run["params"]["gan"].get("generators") == "shared_pretrain"


def recall_moves(run):
    """How far a run's minority recall moved over its last fifth of epochs: the last scored value less the last one
    scored at or before 80% of its epochs (None without two such scorings)."""
    scored = [epoch for epoch in run.get("history", []) if epoch.get("minority_recall") is not None]
    # A boosted run's history is its rounds' one after another, each a classifier of its own; its result is their vote.
    if len(scored) < 2 or "boosting" in run:
        return None
    last = scored[-1]
    before = [epoch for epoch in scored if epoch["epoch"] <= 0.8 * last["epoch"]]
    return None if not before else last["minority_recall"] - before[-1]["minority_recall"]


def still_moving_lines(grouped):
    """The runs whose minority recall still moved, over their last fifth of epochs, by more than the spread (sample sd)
    of their method's final minority recall over seeds: trained too briefly for their ranking to have settled."""
    moving = []
    for method, seeds in grouped.items():
        finals = [run["minority_recall"] for run in seeds.values()]
        if len(finals) < 2:
            continue
        spread_over_seeds = float(np.std(finals, ddof=1))
        for seed, run in seeds.items():
            moved = recall_moves(run)
            if moved is not None and abs(moved) > spread_over_seeds:
                moving.append(f"{method}-{seed} ({100 * moved:+.1f} against an sd of {100 * spread_over_seeds:.1f})")
    if not moving:
        return []
    runs = "1 run's" if len(moving) == 1 else f"{len(moving)} runs'"
    return [f"Still moving at the end: {runs} minority recall moved over the last fifth of epochs by more than the "
            f"method's spread over seeds (points): {', '.join(moving)}. Rankings may depend on when training stopped."]


def tally_line(claims):
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
    return line + "." + unseen_line(claims)


def unseen_line(claims):
    """What the not-significant claims could have seen: the range of their detectable differences in points."""
    unseen = [claim for claim in claims if claim["verdict"] == "not significant"
              and claim.get("detectable_difference") is not None and claim["metric"] in METRIC_LABELS]
    if not unseen:
        return ""
    sizes = sorted(100 * claim["detectable_difference"] for claim in unseen)
    seeds = " or ".join(str(n) for n in sorted({claim["n"] for claim in unseen}))
    span = f"{sizes[0]:.1f}" if len(sizes) == 1 else f"{sizes[0]:.1f} to {sizes[-1]:.1f}"
    return (f" The {len(unseen)} not significant could not have told apart a difference under {span} points with "
            f"{seeds} seeds ({POWER:.0%} power at their Holm levels): not significant is not no difference.")
