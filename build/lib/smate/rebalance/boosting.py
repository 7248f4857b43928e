"""SAMME (Zhu et al. 2009), multi-class AdaBoost, over the suite's classifier on the imbalanced train set:
the boosting the paper's authors tried and gave up on (their notebook's ensembles reached 23-28% truck
recall). Each round's classifier votes for its predictions with weight log((1 - err) / err) + log(K - 1),
and the next round trains on a draw of the train set weighted towards what this one got wrong.

Boosting by resampling, not by reweighting the loss: the trainer weighs the loss by class, not by
example, and a weighted draw is the form of SAMME for learners that take no example weights.
"""

import numpy as np

from ._base import Interval, Rebalancer, register


@register("samme")
class SAMME(Rebalancer):
    """`rounds` classifiers, the first on the imbalanced set as it is (so it is the imbalanced run of the
    same seed), each later one on a weighted draw of it; `boost` trains them and returns the vote."""

    kind = "boost"
    constraints = {"rounds": Interval(int, 1)}

    def __init__(self, seed=0, rounds=5):
        super().__init__(seed)
        self.rounds = rounds
        self.rounds_ = []

    def _fit_resample(self, X, y):
        return X, y

    def _fit(self, task, images, labels, total_steps):
        # A round's curves under its own seed's name: each round counts its epochs from 1.
        def one_round(round_images, round_labels, seed):
            return task.fit(round_images, round_labels, seed, log_prefix=f"seed-{seed}/", total_steps=total_steps)
        return self.boost(one_round, images, labels, task.num_classes)

    def _record(self, task):
        return {"extra": {"boosting": self.rounds_}}

    def boost(self, train, X, y, num_classes):
        """`train(images, labels, seed)` trains one classifier and returns its TrainResult. Returns the
        last round's result with the vote's test predictions and every round's history, one after the other."""
        from ..classify import predict_labels  # here, so that listing the registry needs no torch

        n = len(y)
        weights = np.full(n, 1 / n)
        draws = np.random.default_rng(self.seed)
        votes, results = None, []
        for round_index in range(self.rounds):
            chosen = np.arange(n) if round_index == 0 else draws.choice(n, n, p=weights)
            result = train(X[chosen], y[chosen], self.seed if round_index == 0 else self.seed * 1000 + round_index)
            wrong = predict_labels(result.model, X, result.normalization) != y
            error = float(weights[wrong].sum())
            record = {"round": round_index + 1, "weighted_error": error, "train_error": float(wrong.mean()),
                      "distinct_images": int(len(np.unique(chosen)))}
            votes = np.zeros((len(result.predictions), num_classes)) if votes is None else votes
            if error >= 1 - 1 / num_classes:
                # No better than chance on the weighted set: SAMME stops without it (a first round votes alone).
                if not results:
                    votes[np.arange(len(result.predictions)), result.predictions] = 1
                    results.append(result)
                self.rounds_.append({**record, "alpha": None, "stopped": "no better than chance"})
                break
            # A round with no weighted error would vote with infinite weight: capped, and the boosting stops.
            alpha = np.log((1 - error) / max(error, 1e-12)) + np.log(num_classes - 1)
            votes[np.arange(len(result.predictions)), result.predictions] += alpha
            results.append(result)
            self.rounds_.append({**record, "alpha": float(alpha)})
            if error <= 0:
                break
            weights = weights * np.exp(alpha * wrong)
            weights /= weights.sum()
        last = results[-1]
        last.predictions = votes.argmax(1).astype(np.int64)
        last.scores = (votes / votes.sum(1, keepdims=True)).astype(np.float32)  # each class's share of the vote
        last.history = _one_after_another([result.history for result in results])
        last.train_seconds = sum(result.train_seconds for result in results)
        last.epoch_eval_seconds = sum(result.epoch_eval_seconds for result in results)
        last.predict_seconds = sum(result.predict_seconds for result in results)
        return last


def _one_after_another(histories):
    """The rounds' per-epoch records as one history, epochs and steps counted on from round to round."""
    joined, epochs, steps = [], 0, 0
    for round_index, history in enumerate(histories, 1):
        for record in history:
            joined.append({**record, "round": round_index, "epoch": epochs + record["epoch"], "step": steps + record["step"]})
        epochs, steps = joined[-1]["epoch"], joined[-1]["step"]
    return joined
