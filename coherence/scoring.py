"""Turn topic evidence into an intrusion probability and a plain-words explanation.

The evidence is combined by a logistic model whose few weights are learnt from synthetic
intrusions (sentences of one news story planted in another; `benchmarks/fit_weights.py`
refits them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from coherence.evidence import FEATURES, TopicEvidence

__all__ = ["IntrusionModel", "explain_off_topic"]


@dataclass(frozen=True)
class IntrusionModel:
    """Logistic model: P(sentence was intruded from another story | evidence)."""

    coef: np.ndarray
    intercept: float
    flag_probability: float = 0.5  # default operating point, chosen on dev data
    features: tuple[str, ...] = FEATURES

    @classmethod
    def default(cls) -> "IntrusionModel":
        """The weights shipped with the package."""
        text = resources.files("coherence").joinpath("weights.json").read_text()
        data = json.loads(text)
        if tuple(data["features"]) != FEATURES:
            raise RuntimeError("coherence/weights.json does not match the evidence features")
        return cls(
            np.asarray(data["coef"], dtype=float),
            float(data["intercept"]),
            float(data.get("flag_probability", 0.5)),
        )

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature contribution to the log-odds, (n, n_features)."""
        return features * self.coef[None, :]

    def probability(self, features: np.ndarray) -> np.ndarray:
        """P(intruded | evidence) for every row."""
        logit = self.contributions(features).sum(axis=1) + self.intercept
        return 1.0 / (1.0 + np.exp(-logit))


_SEMANTIC = frozenset(
    {
        "topic_distance",
        "topic_gap",
        "neighbour_distance",
        "neighbour_gap",
        "nearest_distance",
        "local_distance",
        "local_mean_distance",
        "lead_distance",
    }
)
_LEXICAL = frozenset({"lexical_novelty", "confident_novelty"})


def explain_off_topic(evidence: TopicEvidence, index: int, model: IntrusionModel) -> str:
    """Why sentence `index` looks off-topic, strongest evidence first, in plain words."""
    contrib = dict(zip(model.features, model.contributions(evidence.features[index : index + 1])[0]))
    topic_sim = evidence.topic.topic_similarity
    link = evidence.links[index]
    parts: list[tuple[float, str]] = [
        (
            sum(v for k, v in contrib.items() if k in _SEMANTIC),
            f"its meaning is far from the article's main topic (similarity {topic_sim[index]:.2f}, "
            f"typical sentence {np.median(topic_sim):.2f})",
        )
    ]
    novelty = 1.0 - link.lexical
    if novelty >= 0.5:
        parts.append(
            (
                sum(v for k, v in contrib.items() if k in _LEXICAL),
                f"{novelty:.0%} of its informative words occur nowhere else in the article",
            )
        )
    if link.novel_entities and not link.shared_entities:
        names = ", ".join(evidence.words[index].names[key] for key in link.novel_entities)
        weight = contrib.get("novel_entities", 0.0)
        text = f"it names {names}, none of which appears elsewhere"
        anchors = evidence.anchors
        if anchors.unanchored[index]:
            weight += contrib.get("unanchored", 0.0)
            text += (
                f", while {anchors.anchored_sentences} of the article's other "
                f"{anchors.naming_sentences - 1} sentences that name something share a name with the rest"
            )
        parts.append((weight, text))
    parts.sort(key=lambda p: -p[0])
    text = "; ".join(p[1] for p in parts)
    return text[0].upper() + text[1:] + "."
