"""The `keras_cnn` classifier: the Keras-examples CIFAR-10 CNN of the paper's era (about 75-80% on full CIFAR-10)."""

import torch
from torch import nn

from ._recipe import Recipe


class KerasCNN(nn.Sequential):
    """conv32-conv32-pool, conv64-conv64-pool, dense 512, softmax, as in keras/examples/cifar10_cnn.py:
    the second conv of each pair has no padding, ReLU throughout, dropout 0.25/0.25/0.5."""

    def __init__(self, num_classes, in_channels=3, image_shape=(32, 32), dropout=True):
        def drop(p):
            return nn.Dropout(p) if dropout else nn.Identity()

        height, width = (_side_after_convs(side) for side in image_shape)
        flat = 64 * height * width
        super().__init__(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), drop(0.25),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), drop(0.25),
            nn.Flatten(), nn.Linear(flat, 512), nn.ReLU(), drop(0.5), nn.Linear(512, num_classes),
        )

    def features(self, x):
        """The 512 activations before the classification layer."""
        # Not self[:-1]: slicing a Sequential subclass calls this class's __init__ with the modules.
        for layer in list(self)[:-1]:
            x = layer(x)
        return x


def _side_after_convs(side):
    """A side after the two unpadded convs and two poolings."""
    return ((side - 2) // 2 - 2) // 2


MIN_SIDE = 10  # the smallest side that leaves one pixel after the convs and poolings


class KerasCNNRecipe(Recipe):
    """`recipe: authors` trains as the authors' notebook (src/Classifier.ipynb) did: RMSprop with Keras'
    legacy decay, Glorot-uniform weights and zero biases, pixels / 255 (raw for the sets in `unscaled`),
    no augmentation. `recipe: ours`: Adam on standardised pixels, with the flips and shifts of `flip`, `translate`,
    its rate annealed to zero over the run's steps on a cosine."""

    @property
    def authors(self):
        return self.params["recipe"] == "authors"

    def build(self, train_x):
        model = KerasCNN(self.num_classes, train_x.shape[1], tuple(train_x.shape[-2:]), self.params["dropout"])
        if self.authors:
            for layer in model:
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
        return model

    def min_side(self):
        return MIN_SIDE

    def normalization(self, pixels):
        if not self.authors:
            return super().normalization(pixels)
        scale = 1.0 if self.method in self.params["unscaled"] else 255.0
        shape = (1, pixels.shape[-1], 1, 1)
        return torch.zeros(shape, device=pixels.device), torch.full(shape, scale, device=pixels.device)

    def augmentation(self):
        return (False, 0) if self.authors else super().augmentation()

    def configure(self, model, total_steps, steps_per_epoch):
        p = self.params
        if not self.authors:
            self.optimizer = torch.optim.Adam(model.parameters(), lr=p["lr"])
            # Cosine rather than one-cycle: the preset's lr stays the peak, with no warm-up to tune, and the rate
            # reaches zero at the last step whatever the budget, so a run ends trained, not stopped mid-descent.
            self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, max(1, total_steps))
            return
        self.optimizer = torch.optim.RMSprop(model.parameters(), lr=p["lr"], alpha=p["rho"], eps=p["epsilon"])
        # Keras' legacy `decay`: the rate at iteration t is lr / (1 + decay * t).
        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: 1.0 / (1.0 + p["decay"] * step))

    def after_step(self, step):
        if self.schedule is not None:
            self.schedule.step()
