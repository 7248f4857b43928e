"""Where the pipeline's stages keep their files (smate/pipeline/stages.py and gan_stages.py write them; the report reads them).

OUT/prepared/dataset.npz, dataset.json          prepare: the decoded images, labels and class names
OUT/prepared/split.json                         split: the kept train indices of the imbalanced set
OUT/gan/pretrained/seed-G/                      pretrain_gan: generator, discriminator, history, sample grids
OUT/gan/<variant>/seed-G/generators/<class>/    transfer_gan: the same, per minority class (a cGAN's one: generators/all/)
OUT/gan/<variant>/seed-G/synthetic.npz, .png    synthesize: the images a GAN method adds
OUT/gan/feature_net.pt                          feature_net: the classifier whose features score generators
OUT/gan/guide_net-seed-G.pt                     guide_net: SMate+'s classifier, trained on the imbalanced set
OUT/gan/<variant>/quality.json                  gan_quality: FD, KD, precision/recall, memorization
OUT/runs/<method>-<seed>/                       train: metrics.json, history.csv, predictions.csv of one run
OUT/summary.csv, summary.md, metrics.json       summarize: one row per method over its seeds (metrics.json for DVC)
OUT/live/<stage>/plots/metrics/<name>.tsv      with log.dvclive: a training's per-epoch curves, as DVCLive writes them

G is a generator's seed: each run seed's own (gan.generators: per_seed; shared_pretrain, whose one pretraining
is gan.seed's) or gan.seed (single). Results
made before generators had seeds hold their trainings one level up, without seed-G/.
"""

from pathlib import Path

from ..rebalance import REBALANCERS

DEFAULT_OUT = "results"  # the output folder of `smate-bench run` and of dvc.yaml's stages
SWEEP_OUT = f"{DEFAULT_OUT}/sweep"  # the sweep's (sweep/dvc.yaml's)


def keys_dir(out):
    return Path(out) / "keys"


def key_path(out, name):
    """A stage instance's content key and wall time, left when it finished."""
    return keys_dir(out) / f"{name}.json"


def prepared_dir(out):
    return Path(out) / "prepared"


def runs_dir(out):
    return Path(out) / "runs"


def run_dir(out, method, seed):
    return runs_dir(out) / f"{method}-{seed}"


def summary_path(out):
    """The summary table, whose rows name the runs the configuration last summarised there."""
    return Path(out) / "summary.csv"


def live_dir(out, step_name):
    """Where a training stage's DVCLive curves go while it trains: outside its output, which appears only when it ends."""
    return Path(out) / "live" / step_name


def network_path(folder):
    """A run's trained network, in its folder (the decoupled methods start from the imbalanced run's)."""
    return Path(folder) / "network.pt"


def gan_dir(out, variant):
    """A GAN method's folder (or "pretrained"'s): its quality.json, and a folder per generator seed."""
    return Path(out) / "gan" / variant


def quality_path(out, variant):
    return gan_dir(out, variant) / "quality.json"


def training_dir(out, variant, generator_seed):
    """The trainings of `variant` (or the pretraining) with one generator seed."""
    return gan_dir(out, variant) / f"seed-{generator_seed}"


def generator_dir(out, variant, class_name, generator_seed):
    """Where `variant`'s generator of one minority class lives; a cGAN's one generator draws them all."""
    classes = "all" if REBALANCERS[variant].conditional else class_name
    return training_dir(out, variant, generator_seed) / "generators" / classes


def last_grid(training):
    """A GAN training folder's last sample grid (samples/epoch_NNNN.png, as smate/gan/train.py names them), or None."""
    grids = sorted(Path(training).glob("samples/epoch_*.png"))
    return grids[-1] if grids else None


def feature_net_path(out):
    return Path(out) / "gan" / "feature_net.pt"


def guide_net_path(out, generator_seed):
    return Path(out) / "gan" / f"guide_net-seed-{generator_seed}.pt"


def synthetic_path(out, variant, generator_seed):
    return training_dir(out, variant, generator_seed) / "synthetic.npz"
