"""Rebalancing with GAN-made images: SMate and its ablations.

The generators are trained and sampled by their own pipeline stages (pretrain_gan, transfer_gan,
synthesize); these methods take the synthetic images through `use()` and add as many of each
class as balancing needs.
"""

import numpy as np

from ..errors import SmateError
from ._base import Rebalancer, register


class _Generated(Rebalancer):
    kind = "generator"
    # Whether the generator starts from the one pretrained on the majority classes.
    pretrained = True
    # Whether the minority images are grown to gan.transfer.augment_to with the paper's augmentation.
    augmented = True
    # Whether the transfer adds SMate+'s classifier term to the generator's loss (gan.transfer.guide_weight).
    guided = False
    # Whether one generator, conditioned on the label, learns every class of the imbalanced train set.
    conditional = False
    # Whether the transfer uses DiffAugment whatever gan.transfer.diffaugment says.
    diffaugment = False

    def __init__(self, seed=0):
        super().__init__(seed)
        self.synthetic = None

    def use(self, images, labels):
        self.synthetic = (np.asarray(images), np.asarray(labels))
        return self

    def _train_set(self, task):
        self.use(*task.synthetic())
        return super()._train_set(task)

    def _record(self, task):
        return {"identity": {"generator_seed": task.generator_seed}}

    def _fit_resample(self, X, y):
        if self.synthetic is None:
            raise SmateError(f"{self.name} needs its synthetic images; run `smate-bench synthesize --variant {self.name}`")
        images, labels = self.synthetic
        counts = np.bincount(y)
        parts_x, parts_y = [X], [y]
        # The classes the generators drew for (the minority's); a majority class a few images short stays as it is.
        drawn = np.unique(labels)
        for class_id in np.flatnonzero((counts > 0) & (counts < counts.max()) & np.isin(np.arange(len(counts)), drawn)):
            needed = int(counts.max() - counts[class_id])
            made = images[labels == class_id]
            if len(made) < needed:
                raise SmateError(f"{self.name} has {len(made)} synthetic images of class {class_id} but balancing needs "
                                 f"{needed}; rerun `smate-bench synthesize --variant {self.name}`")
            parts_x.append(made[:needed])
            parts_y.append(np.full(needed, class_id, dtype=y.dtype))
        return np.concatenate(parts_x), np.concatenate(parts_y)


@register("smate")
class SMate(_Generated):
    """Minority images from a generator pretrained on the majority classes, then fine-tuned with
    its first layers frozen on the augmented minority (the paper's method)."""


@register("smate_plus")
class SMatePlus(_Generated):
    """SMate+, the paper's future work: SMate's transfer, with a term in the generator's loss that
    penalises fakes a fixed classifier (trained on the imbalanced train set) calls another class."""

    guided = True


@register("smate_diffaugment")
class SMateDiffAugment(_Generated):
    """SMate with DiffAugment (Zhao et al. 2020) in its transfer: beside `smate` in one run, it measures
    what DiffAugment does for the minority generator."""

    diffaugment = True


@register("cgan")
class ConditionalGAN(_Generated):
    """One DCGAN conditioned on the label (a projection discriminator), trained on the whole imbalanced
    train set and sampled for the minority: the idea behind BAGAN, the minority borrowing what the
    majority taught the generator without a transfer step."""

    pretrained = False
    augmented = False
    conditional = True


@register("smate_noaug")
class SMateNoAugment(_Generated):
    """SMate without augmentation: the transfer sees only the original minority images."""

    augmented = False


@register("gan_minority")
class GANMinority(_Generated):
    """A GAN trained from scratch on the augmented minority alone: SMate without the transfer."""

    pretrained = False
