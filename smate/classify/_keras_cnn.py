"""The `keras_cnn` classifier: the Keras-examples CIFAR-10 CNN of the paper's era (about 75-80% on full CIFAR-10)."""

import torch
from torch import nn

from ._recipe import Recipe


class KerasCNN(nn.Sequential):
    """conv32-conv32-pool, conv64-conv64-pool, dense 512, softmax, as in keras/examples/cifar10_cnn.py:
    the second conv of each pair has no padding, ReLU throughout, dropout 0.25/0.25/0.5."""

    def __init__(self, num_classes, in_channels=3, image_size=32, dropout=True):
        def drop(p):
            return nn.Dropout(p) if dropout else nn.Identity()

        flat = 64 * (((image_size - 2) // 2 - 2) // 2) ** 2
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


class KerasCNNRecipe(Recipe):
    def build(self, train_x):
        return KerasCNN(self.num_classes, train_x.shape[1], train_x.shape[-1], self.params["dropout"])

    def configure(self, model, total_steps, steps_per_epoch):
        self.optimizer = torch.optim.Adam(model.parameters(), lr=self.params["lr"])
