"""The decoupled methods (Kang et al., ICLR 2020): the imbalanced run's network is kept, its backbone frozen,
and only its last layer is re-trained, rescaled or given synthetic features. They leave the images as they are;
`refit` takes the backbone's features of the imbalanced train set and returns the new last layer. torch and
scikit-learn are imported where they are used, so that listing the registry stays quick (see __init__.py)."""

import math
import time

import numpy as np

from ._base import Interval, OneOf, Rebalancer, Trained, register

POSITIVE = Interval(float, 0, closed="neither")
COUNT = Interval(int, 1)


class _Decoupled(Rebalancer):
    """Its training step: the same seed's base run's network, its backbone frozen, its last layer re-fitted by
    `refit` on the backbone's features of the imbalanced train set, the test set scored through it as the base
    run scored it."""

    kind = "decoupled"
    base_method = "imbalanced"  # whose runs' networks it starts from, seed by seed
    epochs = 0  # the epochs `refit` trains the last layer for
    steps_ = 0  # the optimizer steps `refit` took
    synthetic_ = None  # (features, labels) a feature-space method added, scored against held-out features
    code = ("smate/gan/quality.py",)  # its feature generators' scores

    def _fit_resample(self, X, y):
        return X, y

    def refit(self, model, features, labels, minority_ids):
        """The new last layer (a torch Linear) for `model`, given its backbone's features of the train set."""
        raise NotImplementedError

    def train(self, task):
        from ..classify import CLASSIFIERS, extract_features, predict_scores
        from ..classify.head import with_head
        from ..precision import resolve_bf16

        saved, model = task.base_network(self.base_method)
        start = time.perf_counter()
        features = extract_features(model, task.images, saved["normalization"])
        feature_seconds = time.perf_counter() - start
        start = time.perf_counter()
        head = self.refit(model, features, task.labels, task.minority_ids)
        refit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        recipe = CLASSIFIERS[saved["classifier"]](saved["params"], saved["num_classes"], self.name)
        scores = predict_scores(recipe, with_head(model, head), task.test_images, saved["normalization"],
                                bf16=resolve_bf16(task.bf16, task.device), batch_size=task.eval_batch_size)
        predict_seconds = time.perf_counter() - start
        labels = task.labels if self.synthetic_ is None else np.concatenate([task.labels, self.synthetic_[1]])
        quality = {"feature_generator": _feature_quality(model, saved, task, self.synthetic_)} if self.synthetic_ else {}
        # train: what the run adds to its base run, the backbone's features and the re-fit (rebalance).
        seconds = {"rebalance": refit_seconds, "train": feature_seconds + refit_seconds, "epoch_eval": 0.0,
                   "predict": predict_seconds}
        return Trained(scores.argmax(1).astype(np.int64), scores, labels, [],
                       {"kind": "last layer", "epochs": self.epochs, "optimizer_steps": self.steps_}, seconds,
                       f"re-fitted {self.base_method}-{self.seed}'s last layer in {refit_seconds:.1f} s "
                       f"(features {feature_seconds:.1f} s)",
                       identity={"base_run": f"{self.base_method}-{self.seed}"}, extra=quality)


def _feature_quality(model, saved, task, synthetic):
    """FD and precision/recall of the synthetic features of each minority class against the backbone's features
    of its held-out test images: a feature generator scored as the pixel ones are, in its own space."""
    from ..classify import extract_features
    from ..gan import quality

    made, made_labels = synthetic
    scores = {}
    for class_id in task.minority_ids:
        mine = made[made_labels == class_id]
        if not len(mine):
            continue
        real = extract_features(model, task.test_images[task.test_labels == class_id], saved["normalization"])
        precision, recall = quality.precision_recall(real, mine)
        scores[task.classes[class_id]] = {"frechet_distance": quality.frechet_distance(real, mine),
                                          "precision": precision, "recall": recall, "images": int(len(mine))}
    return scores


class _Retrained(_Decoupled):
    """A last layer re-trained on features with Adam, its steps cosine-annealed (smate/classify/head.py)."""

    constraints = {"epochs": COUNT, "lr": POSITIVE, "batch_size": COUNT}
    balanced_sampling = False

    def __init__(self, seed=0, epochs=10, lr=0.001, batch_size=128):
        super().__init__(seed)
        self.epochs, self.lr, self.batch_size = epochs, lr, batch_size

    def refit(self, model, features, labels, minority_ids):
        from ..classify.head import last_linear, logit_scale, retrain_head

        features, labels = self._training_features(features, labels, minority_ids)
        self.steps_ = self.epochs * math.ceil(len(labels) / self.batch_size)
        return retrain_head(last_linear(model)[2], features, labels, balanced=self.balanced_sampling, epochs=self.epochs,
                            lr=self.lr, batch_size=self.batch_size, seed=self.seed, scale=logit_scale(model))

    def _training_features(self, features, labels, minority_ids):
        return features, labels


@register("crt")
class ClassifierRetraining(_Retrained):
    """Kang et al.'s cRT: the backbone frozen, the last layer drawn afresh and re-trained with class-balanced sampling."""

    balanced_sampling = True


@register("tau_norm")
class TauNorm(_Decoupled):
    """Kang et al.'s tau-normalisation: the last layer's class weights divided by their norm to the power tau, post hoc."""

    constraints = {"tau": Interval(float, 0)}

    def __init__(self, seed=0, tau=1.0):
        super().__init__(seed)
        self.tau = tau

    def refit(self, model, features, labels, minority_ids):
        from ..classify.head import last_linear, tau_normalized

        return tau_normalized(last_linear(model)[2], self.tau)


class _Synthesized(_Retrained):
    """A last layer re-trained on the real features and synthetic minority features up to the largest class;
    `synthetic_` holds what was added, (features, labels), for scoring against held-out features."""

    counts = "largest"

    def _training_features(self, features, labels, minority_ids):
        counts = np.bincount(labels)
        wanted = {c: int(counts.max() - counts[c]) for c in minority_ids if counts.max() > counts[c]}
        made = [self._synthesize(features, labels, minority_ids, c, n) for c, n in wanted.items()]
        made_features = np.concatenate(made) if made else np.empty((0, features.shape[1]))
        made_labels = np.concatenate([np.full(n, c) for c, n in wanted.items()]).astype(labels.dtype) if made else labels[:0]
        self.synthetic_ = made_features, made_labels
        return np.concatenate([features, made_features]), np.concatenate([labels, made_labels])

    def _synthesize(self, features, labels, minority_ids, class_id, count):
        raise NotImplementedError


@register("feature_smote")
class FeatureSMOTE(_Synthesized):
    """SMOTE (imbalanced-learn) on the frozen backbone's features, then the last layer re-trained on real and
    synthetic features: SMOTE where its interpolations are meaningful, as smote_variants' maintainers advise."""

    constraints = {**_Retrained.constraints, "k_neighbors": COUNT}

    def __init__(self, seed=0, epochs=10, lr=0.001, batch_size=128, k_neighbors=5):
        super().__init__(seed, epochs, lr, batch_size)
        self.k_neighbors = k_neighbors

    def _synthesize(self, features, labels, minority_ids, class_id, count):
        from imblearn.over_sampling import SMOTE

        own = labels == class_id
        if own.sum() < 2:
            raise ValueError(f"feature_smote needs 2 images of class {class_id} to interpolate, the train set has {own.sum()}")
        others = np.flatnonzero(~own)[: own.sum() + count]  # a second class, which SMOTE needs; its rows are dropped
        sampler = SMOTE(sampling_strategy={1: own.sum() + count}, k_neighbors=min(self.k_neighbors, int(own.sum()) - 1),
                        random_state=self.seed + class_id)
        x = np.concatenate([features[own], features[others]])
        y = np.concatenate([np.ones(own.sum(), int), np.zeros(len(others), int)])
        resampled, _ = sampler.fit_resample(x, y)
        return resampled[len(x):]


@register("feature_smate")
class FeatureSMate(_Synthesized):
    """SMate in feature space: a generator (an MLP GAN, or a small diffusion model as LDMLR's) pretrained on the
    majority classes' features and transferred to each minority class's (its first `frozen` layers fixed, the
    paper's recipe), its samples added for re-training the last layer."""

    code = (*_Decoupled.code, "smate/gan/feature_space.py", "smate/gan/feature_gan.py", "smate/gan/feature_diffusion.py")
    constraints = {**_Retrained.constraints, "generator": OneOf(("gan", "diffusion")), "noise_dim": COUNT, "width": COUNT,
                   "pretrain_steps": COUNT, "transfer_steps": COUNT, "frozen": Interval(int, 0, 2),
                   "generator_batch_size": COUNT, "generator_lr": POSITIVE}

    def __init__(self, seed=0, epochs=10, lr=0.001, batch_size=128, generator="gan", noise_dim=64, width=256,
                 pretrain_steps=2000, transfer_steps=500, frozen=1, generator_batch_size=128, generator_lr=0.0002):
        super().__init__(seed, epochs, lr, batch_size)
        self.generator = {"generator": generator, "noise_dim": noise_dim, "width": width, "pretrain_steps": pretrain_steps,
                          "transfer_steps": transfer_steps, "frozen": frozen, "batch_size": generator_batch_size,
                          "lr": generator_lr}
        self.generators_ = None

    def _training_features(self, features, labels, minority_ids):
        from ..gan.feature_space import smate_in_feature_space

        self.generators_ = smate_in_feature_space(features, labels, list(minority_ids), seed=self.seed, **self.generator)
        return super()._training_features(features, labels, minority_ids)

    def _synthesize(self, features, labels, minority_ids, class_id, count):
        generators, scale = self.generators_
        return scale.back(generators[class_id].draw(count, self.seed + class_id))
