"""A boosted tree ensemble as plain arrays, evaluated with numpy.

The leftover model is fitted with scikit-learn's HistGradientBoostingClassifier, but scoring
must not import scikit-learn (a second of start-up) nor unpickle its objects (tied to its
version). So the fitted trees ship as arrays in an .npz file: every node's feature,
threshold, children, leaf value and where a missing value goes; `logit` walks all trees at
once, one level per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["TreeEnsemble"]


@dataclass(frozen=True)
class TreeEnsemble:
    """Additive trees on a logit scale. Node arrays hold every tree's nodes end to end;
    `roots` is the index of each tree's first node."""

    feature_names: tuple[str, ...]
    baseline: float
    roots: np.ndarray  # (trees,) int
    feature: np.ndarray  # (nodes,) int: the feature a split reads
    threshold: np.ndarray  # (nodes,) float: go left when value <= threshold
    left: np.ndarray  # (nodes,) int, global node index
    right: np.ndarray  # (nodes,) int, global node index
    missing_left: np.ndarray  # (nodes,) bool: where NaN goes
    leaf: np.ndarray  # (nodes,) bool
    value: np.ndarray  # (nodes,) float: a leaf's contribution to the logit
    depth: int

    def logit(self, x: np.ndarray) -> np.ndarray:
        """(rows,) summed logit for rows of features in `feature_names` order."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"expected (rows, {len(self.feature_names)}) features, got {x.shape}")
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(values), self.missing_left[node], values <= self.threshold[node])
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        return self.baseline + self.value[node].sum(axis=1)

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    @classmethod
    def from_sklearn(cls, model: Any, feature_names: tuple[str, ...]) -> TreeEnsemble:
        """Copy the trees of a fitted binary HistGradientBoostingClassifier."""
        parts, roots, offset, depth = [], [], 0, 0
        for (predictor,) in model._predictors:  # noqa: SLF001 - the fitted trees live here
            nodes = predictor.nodes
            roots.append(offset)
            parts.append((nodes, offset))
            depth = max(depth, int(nodes["depth"].max()))
            offset += len(nodes)

        def stacked(field: str, shift: bool = False) -> np.ndarray:
            return np.concatenate([n[field].astype(np.int64) + off if shift else n[field] for n, off in parts])

        return cls(
            feature_names=tuple(feature_names),
            baseline=float(np.ravel(model._baseline_prediction)[0]),  # noqa: SLF001
            roots=np.asarray(roots, dtype=np.int64),
            feature=stacked("feature_idx").astype(np.int64),
            threshold=stacked("num_threshold").astype(float),
            left=stacked("left", shift=True),
            right=stacked("right", shift=True),
            missing_left=stacked("missing_go_to_left").astype(bool),
            leaf=stacked("is_leaf").astype(bool),
            value=stacked("value").astype(float),
            depth=depth,
        )

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The ensemble as named arrays for an .npz file, each name starting with `prefix`."""
        fields = {
            "feature_names": np.array(self.feature_names),
            "baseline": np.array(self.baseline),
            "roots": self.roots.astype(np.int32),
            "feature": self.feature.astype(np.int16),
            "threshold": self.threshold,
            "left": self.left.astype(np.int32),
            "right": self.right.astype(np.int32),
            "missing_left": self.missing_left,
            "leaf": self.leaf,
            "value": self.value,
            "depth": np.array(self.depth),
        }
        return {f"{prefix}_{name}": value for name, value in fields.items()}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> TreeEnsemble:
        """The ensemble `arrays(prefix)` wrote."""

        def get(name: str) -> np.ndarray:
            return arrays[f"{prefix}_{name}"]

        return cls(
            feature_names=tuple(str(n) for n in get("feature_names")),
            baseline=float(get("baseline")),
            roots=get("roots").astype(np.int64),
            feature=get("feature").astype(np.int64),
            threshold=get("threshold").astype(float),
            left=get("left").astype(np.int64),
            right=get("right").astype(np.int64),
            missing_left=get("missing_left").astype(bool),
            leaf=get("leaf").astype(bool),
            value=get("value").astype(float),
            depth=int(get("depth")),
        )
