"""Would a classifier over sentence embeddings read the stage and profile better than the rules?

A probe for issue 8, not part of the product: for each slot, a multinomial logistic regression
(NumPy, full-batch gradient descent) over the e5 embedding of each person's whole text, features
standardised per dimension (raw e5 cosines all sit near 0.8, so unscaled features learn little),
trained on one development set and scored on the other (dev -> dev2, dev2 -> dev), with and
without the sentences of knowledge/diagnostic/examples.yaml. It never reads the test half.

    python scripts/probe_slot_classifier.py [--l2 0.1]
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_understanding import _people  # scripts/ is on sys.path when run
from eval_sets import Split
from numpy.typing import NDArray

from assistant.runtime import Runtime
from assistant.text import normalise
from assistant.understanding.semantic import load_examples

Matrix = NDArray[np.float64]


def labelled(split: Split, slot: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for person in _people(split):
        value = getattr(person.expect, slot)
        if value is not None:
            texts.append(" ".join(person.turns))
            labels.append(value)
    return texts, labels


def train(x: Matrix, labels: list[str], classes: list[str], l2: float) -> tuple[Matrix, Matrix]:
    target = np.zeros((len(labels), len(classes)))
    for row, label in enumerate(labels):
        target[row, classes.index(label)] = 1.0
    weights = np.zeros((x.shape[1], len(classes)))
    bias = np.zeros(len(classes))
    for _ in range(400):
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gradient = (p - target) / len(labels)
        weights -= 0.5 * (x.T @ gradient + l2 * weights)
        bias -= 0.5 * gradient.sum(axis=0)
    return weights, bias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l2", type=float, default=0.1)
    args = parser.parse_args()
    runtime = Runtime()
    vectors: dict[str, NDArray[np.float32]] = {}

    def embed(texts: list[str]) -> Matrix:
        missing = [t for t in texts if t not in vectors]
        if missing:
            found = runtime.embedder.embed_queries([normalise(t) for t in missing])
            vectors.update(zip(missing, found, strict=True))
        return np.vstack([vectors[t] for t in texts]).astype(np.float64)

    examples = load_examples(runtime.settings.knowledge_dir / "diagnostic" / "examples.yaml")
    for slot in ("stage", "profile"):
        pairs = list(examples.pairs(slot))
        example_texts = [sentence for _, sentence in pairs]
        example_labels = [value for value, _ in pairs]
        runs: tuple[tuple[Split, Split], ...] = (("dev", "dev2"), ("dev2", "dev"))
        for train_split, test_split in runs:
            texts, labels = labelled(train_split, slot)
            test_texts, test_labels = labelled(test_split, slot)
            classes = sorted(set(labels) | set(test_labels) | set(example_labels))
            for name, (x_texts, y) in {
                "people": (texts, labels),
                "people+examples": (texts + example_texts, labels + example_labels),
            }.items():
                x = embed(x_texts)
                mean, spread = x.mean(axis=0), x.std(axis=0) + 1e-6
                weights, bias = train((x - mean) / spread, y, classes, args.l2)
                scores = ((embed(test_texts) - mean) / spread) @ weights + bias
                predicted = [classes[i] for i in scores.argmax(axis=1)]
                right = np.mean([p == t for p, t in zip(predicted, test_labels, strict=True)])
                print(
                    f"{slot:8} {train_split:4} -> {test_split:4} {name:16} "
                    f"accuracy {right:.3f} (n={len(test_labels)})"
                )


if __name__ == "__main__":
    main()
