"""What the shared training loop asks of each classifier: its model, optimizer, schedule and inference."""


class Recipe:
    # True when the loss is summed over the batch (learning rates are then per example).
    sum_loss = False

    def __init__(self, params, num_classes):
        self.params = params
        self.num_classes = num_classes
        self.optimizer = None

    def build(self, train_x):
        """The model, given the normalised NCHW train images on the device (some nets initialise from data)."""
        raise NotImplementedError

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
