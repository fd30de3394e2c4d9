"""A slot's value read from a whole description: logistic regression over sentence embeddings.

The nearest-example layer (semantic.py) compares short clauses; this one reads all a person
has said of the project as one story, the way an adviser does ("on tourne depuis 2012, deux
salariés, on voudrait ouvrir un deuxième lieu" is development, whatever single clause looks
closest). It learns from the
example clauses of examples.yaml and the labelled descriptions of descriptions.yaml.

Training (scikit-learn, a standardiser then a multinomial logistic regression) happens once,
when the index is built or on first use, and is saved beside the index as plain arrays keyed
by a hash of the training data; reading a message is then a few NumPy products, so serving
never imports scikit-learn. Features are standardised because raw e5 cosines all sit near
0.8: unscaled, a linear model learns little from them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["SlotClassifier", "load_or_train", "training_key"]

log = logging.getLogger(__name__)

Matrix = NDArray[np.float64]
# Inverse regularisation strength: 0.01, 0.03 and 0.1 read within one person of each other on
# the calibration descriptions (semantic.py); 0.1 lets the classifier be confident more often.
STRENGTH = 0.1


def training_key(
    model: str, pairs: Sequence[tuple[str, str]], strength: float | None = None
) -> str:
    """A short hash of what a classifier learns from and how: the model, every (value, text),
    the regularisation."""
    payload = [model, sorted(pairs), STRENGTH if strength is None else strength]
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


class SlotClassifier:
    """One slot's linear model: standardise, then softmax over the slot's values (one value
    per text), or, for a slot that holds several (needs), one yes/no model per value."""

    def __init__(
        self,
        values: list[str],
        mean: Matrix,
        scale: Matrix,
        weights: Matrix,
        bias: Matrix,
        each: bool = False,
    ) -> None:
        self.values = values
        self.mean = mean
        self.scale = scale
        self.weights = weights
        self.bias = bias
        self.each = each  # independent probabilities per value (sigmoid), not a softmax

    @classmethod
    def fit(
        cls, vectors: Matrix, labels: Sequence[str], strength: float | None = None
    ) -> SlotClassifier:
        """Learn from embedded texts and their values (scikit-learn, imported only here)."""
        strength = STRENGTH if strength is None else strength
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples of at least two values")
        scaler = StandardScaler().fit(vectors)
        model = LogisticRegression(C=strength, max_iter=2000)
        model.fit(scaler.transform(vectors), list(labels))
        return cls(
            [str(v) for v in model.classes_],
            np.asarray(scaler.mean_, dtype=np.float64),
            np.asarray(scaler.scale_, dtype=np.float64),
            np.asarray(model.coef_, dtype=np.float64).T,
            np.asarray(model.intercept_, dtype=np.float64),
        )

    @classmethod
    def fit_each(
        cls, vectors: Matrix, label_sets: Sequence[Sequence[str]], strength: float | None = None
    ) -> SlotClassifier:
        """Learn one yes/no model per value from texts that each carry a set of values (a
        text without a value is a "no" for every one). Values seen on every text are left out."""
        strength = STRENGTH if strength is None else strength
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        values = sorted({v for labels in label_sets for v in labels})
        values = [v for v in values if not all(v in labels for labels in label_sets)]
        if not values:
            raise ValueError("a classifier needs texts with and without each value")
        scaler = StandardScaler().fit(vectors)
        scaled = scaler.transform(vectors)
        weights, bias = [], []
        for value in values:
            model = LogisticRegression(C=strength, max_iter=3000)
            model.fit(scaled, [value in labels for labels in label_sets])
            weights.append(np.asarray(model.coef_, dtype=np.float64)[0])
            bias.append(float(model.intercept_[0]))
        return cls(
            values,
            np.asarray(scaler.mean_, dtype=np.float64),
            np.asarray(scaler.scale_, dtype=np.float64),
            np.vstack(weights).T,
            np.asarray(bias, dtype=np.float64),
            each=True,
        )

    def probabilities(self, vectors: Matrix) -> Matrix:
        """One row per text, one column per value (in `values` order): rows summing to 1, or
        each value's own probability for a classifier fitted with `fit_each`."""
        logits = ((vectors - self.mean) / self.scale) @ self.weights + self.bias
        if self.each:
            return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float64)
        if logits.shape[1] == 1:  # scikit-learn keeps one column for two values
            logits = np.hstack([np.zeros_like(logits), logits])
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)

    def read(self, vector: Matrix) -> tuple[str, float]:
        """The most likely value of one text and its probability."""
        row = self.probabilities(np.atleast_2d(vector))[0]
        best = int(row.argmax())
        return self.values[best], float(row[best])

    def save(self, path: Path) -> None:
        """Write the arrays under a unique temporary name, then rename: a reader never sees
        half a file, and two processes saving the same classifier do not write into one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                np.savez(
                    handle,
                    values=np.array(self.values),
                    mean=self.mean,
                    scale=self.scale,
                    weights=self.weights,
                    bias=self.bias,
                    each=np.array(self.each),
                )
            os.chmod(partial, 0o644)  # mkstemp's 0600 would hide it from a server's user
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> SlotClassifier:
        """Read a saved classifier; ValueError when the file is not one (corrupt, truncated,
        arrays that do not fit together)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                model = cls(
                    [str(v) for v in data["values"]],
                    data["mean"],
                    data["scale"],
                    data["weights"],
                    data["bias"],
                    bool(data["each"]) if "each" in data.files else False,
                )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"{path.name}: not a saved classifier ({exc})") from exc
        columns = model.weights.shape[1] if model.weights.ndim == 2 else -1
        fits = (
            model.mean.shape == model.scale.shape == model.weights.shape[:1]
            and (columns == len(model.values) or (columns == 1 and not model.each))
            and model.bias.shape == (columns,)
            and len(model.values) >= (1 if model.each else 2)
        )
        if not fits:
            raise ValueError(f"{path.name}: arrays that do not fit together")
        return model


def load_or_train(
    saved: Path | None, train: Callable[[], SlotClassifier], each: bool, save: bool = True
) -> SlotClassifier:
    """The classifier saved at `saved` (trained on the same data: the name holds its
    training_key), or one trained now and saved there. A damaged file, or one of the other
    kind (`each`), is trained again, not a dead end."""
    if saved is not None and saved.exists():
        try:
            model = SlotClassifier.load(saved)
            if model.each != each:
                raise ValueError(f"{saved.name}: not the kind of classifier expected")
            return model
        except ValueError as exc:
            log.warning("%s; training it again", exc)
    model = train()
    if saved is not None and save:
        model.save(saved)
    return model
