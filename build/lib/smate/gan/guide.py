"""SMate+'s classifier guide (the paper's future work): a fixed classifier, trained on the imbalanced
train set, scores each batch of fakes, and the generator pays weight * cross-entropy(C(G(z)), minority)
for fakes it would call another class. Nothing in SMate's own loss asks for images a classifier
recognises as the minority; this term does."""

import hashlib

import torch
import torch.nn.functional as F


class ClassifierGuide:
    """Call with fakes in [-1, 1] (NCHW); returns (the term for G's loss, the share the classifier calls
    `class_id`). With weight 0 it only measures that share."""

    def __init__(self, model, normalization, class_id, weight):
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        device = next(model.parameters()).device
        self.mean, self.std = (t.to(device) for t in normalization)
        self.class_id, self.weight = class_id, weight

    def __call__(self, fakes):
        pixels = (fakes.float() + 1) * 127.5  # the classifier reads 0-255 pixels, normalised as in its training
        logits = self.model(((pixels - self.mean) / self.std).contiguous(memory_format=torch.channels_last)).float()
        target = torch.full((len(fakes),), self.class_id, device=fakes.device)
        recognised = (logits.detach().argmax(1) == self.class_id).float().mean()
        return self.weight * F.cross_entropy(logits, target), recognised

    def fingerprint(self):
        """What a resumed checkpoint must share with this guide: its weight, class and classifier."""
        digest = hashlib.sha256(f"{self.weight}/{self.class_id}".encode())
        for tensor in self.model.state_dict().values():
            digest.update(tensor.detach().cpu().numpy().tobytes())
        return digest.hexdigest()
