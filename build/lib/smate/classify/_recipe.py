"""What the shared training loop asks of each classifier: its model, optimizer, schedule and inference."""

import torch


class Recipe:
    # True when the loss is summed over the batch (learning rates are then per example).
    sum_loss = False

    def __init__(self, params, num_classes, method=None):
        self.params = params
        self.num_classes = num_classes
        self.method = method  # the rebalanced set it trains on; None for the feature net
        self.optimizer = None

    def normalization(self, pixels):
        """(mean, std), each shaped (1, C, 1, 1), for float NHWC train pixels: standardise per channel."""
        mean = pixels.mean(dim=(0, 1, 2)).view(1, -1, 1, 1)
        return mean, pixels.std(dim=(0, 1, 2)).clamp_min(1e-3).view(1, -1, 1, 1)

    def min_side(self):
        """The smallest image side the model takes."""
        return 1

    def augmentation(self):
        """(flip, translate) applied to the train set each epoch."""
        return self.params["flip"], self.params["translate"]

    def build(self, train_x):
        """The model, given the normalised NCHW train images on the device (some nets initialise from data)."""
        raise NotImplementedError

    def rebuild(self, image_shape):
        """The untrained model for saved state of (H, W, C) images (nothing pretrained is fetched)."""
        height, width, channels = image_shape
        return self.build(torch.zeros(1, channels, height, width))

    def configure(self, model, total_steps, steps_per_epoch):
        """Create `self.optimizer` and whatever schedule the recipe follows."""
        raise NotImplementedError

    def after_step(self, step):
        """Called after optimizer step `step` (0-based)."""

    def finish(self):
        """Called once after the last step."""

    def predict(self, model, x):
        """Logits for a batch at test time (a recipe may add test-time augmentation)."""
        return model(x)
