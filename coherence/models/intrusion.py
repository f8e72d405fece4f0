"""Turn topic evidence into an intrusion probability and a plain-words explanation.

Two calibrated detectors, combined by taking the stronger. The evidence is weighed by a
logistic model whose few weights are learnt from synthetic intrusions (sentences of one news
story planted in another; `training/fit_weights.py` refits them) and, when the sentence
vectors are at hand, by the article-context model (`coherence.models.context`), which reads the
same evidence rows together with every sentence of the article. An unanchored sentence
(several names and words all new, in an article whose naming sentences share theirs) is
evidence on its own, even when its meaning sits close to the topic, as a line about
Islamist groups in the Philippines does in a story about Islamic State in Syria: a second small
logistic model, fitted on the unanchored sentences of the same training data only, gives it
the probability that such a sentence was planted, graded by how far it sits from the topic.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np

from coherence.encoders.base import reader_use
from coherence.models.context import CONTEXT_WEIGHTS, ContextModel
from coherence.models.reader import join_reader
from coherence.evidence.sentences import FEATURES, TopicEvidence
from coherence.text.form import FORM_FEATURES

__all__ = ["AnchoringModel", "ANCHORING_FEATURES", "ArticleReading", "DEFAULT_FLAG_RATE", "IntrusionModel", "ReaderStack", "WEIGHTS_FILES", "explain_off_topic"]

ArticleReading = Literal["auto", "always"] | None  # how a detector reads articles, None: never

# The operating point a detector flags at unless told otherwise: the share of clean development
# articles that get an off_topic flag there. Every quality target of the project counts flags
# at 5% of clean articles, and at 0.05 each outlet group of unseen news stays near 5% (at 0.10
# broadcast and newspaper articles reach 16%); reports/quality.md has the recall it costs.
DEFAULT_FLAG_RATE = 0.05

# The shipped weights of each speed tier.
WEIGHTS_FILES = {"default": "weights.json", "fast": "weights_fast.json"}
# What grades an unanchored sentence: its distance from the topic and from its nearest
# sentences against the article's typical sentence, how many new names it brings, the
# article's length (long stories name more people in passing).
ANCHORING_FEATURES = ("topic_gap", "neighbour_gap", "novel_entities", "log_sentences")


@dataclass(frozen=True)
class AnchoringModel:
    """Logistic model: P(intruded | unanchored, evidence), fitted on unanchored sentences only."""

    coef: np.ndarray
    intercept: float
    features: tuple[str, ...] = ANCHORING_FEATURES

    @classmethod
    def from_dict(cls, data: dict) -> "AnchoringModel":
        return cls(np.asarray(data["coef"], dtype=float), float(data["intercept"]), tuple(data["features"]))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "coef": [float(c) for c in self.coef], "intercept": float(self.intercept)}

    def probability(self, rows: np.ndarray, names: tuple[str, ...] = FEATURES) -> np.ndarray:
        """P(intruded) of every row (evidence rows with columns `names`), as if unanchored."""
        columns = rows[:, [names.index(f) for f in self.features]]
        return 1.0 / (1.0 + np.exp(-(columns @ self.coef + self.intercept)))


@dataclass(frozen=True)
class IntrusionModel:
    """Logistic model: P(sentence was intruded from another story | evidence)."""

    coef: np.ndarray
    intercept: float
    # P(intruded | unanchored, evidence); None: unanchored sentences get no probability of their own
    anchoring: AnchoringModel | None = None
    # (share of clean dev articles with an off_topic flag, sentence score below which it is given)
    # for the scores the detector gives: the context model's, when there is one
    operating_points: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 1.0))
    features: tuple[str, ...] = FEATURES
    # weighs the evidence of a whole article at once; None: the logistic weighs each row alone
    context: ContextModel | None = None
    # operating points of the logistic model alone (vectors of another embedding model)
    row_operating_points: tuple[tuple[float, float], ...] | None = None
    # combines the weighed probability with the reader model's logit (Detector(reader=...))
    reader: ReaderStack | None = None

    @classmethod
    def default(cls, speed: str = "default") -> "IntrusionModel":
        """The weights shipped with the package: for the default tier (logistic and
        article-context model), or for the fast tier (`speed="fast"`: a logistic model fitted
        on the fast tier's static vectors, no context model)."""
        if speed not in WEIGHTS_FILES:
            raise ValueError(f"speed must be one of {tuple(WEIGHTS_FILES)}, got {speed!r}")
        path = resources.files("coherence.models").joinpath(WEIGHTS_FILES[speed])
        if not path.is_file():
            raise RuntimeError(f"coherence/{WEIGHTS_FILES[speed]} is missing from this installation")
        data = json.loads(path.read_text())
        context = ContextModel.default() if speed == "default" else None
        if context is None and data.get("fitted_on", {}).get("context_model"):
            # the operating points were set on the context model's scores: do not flag without it
            raise RuntimeError(f"coherence/{CONTEXT_WEIGHTS} is missing from this installation")
        return cls.from_weights(data, context)

    @classmethod
    def from_weights(cls, data: dict, context: ContextModel | None = None) -> "IntrusionModel":
        """A model from the contents of a weights file (as `training/fit_weights.py` writes it)
        and its article-context model, shipped or not: how a refitted candidate is compared
        with the shipped one before it replaces it."""
        if tuple(data["features"]) != FEATURES or (context is not None and context.features != FEATURES):
            raise RuntimeError("the weights do not match the evidence features")
        return cls(
            np.asarray(data["coef"], dtype=float),
            float(data["intercept"]),
            AnchoringModel.from_dict(data["anchoring"]),
            _points(data["operating_points"]),
            context=context,
            row_operating_points=_points(data.get("row_operating_points", data["operating_points"])),
            reader=ReaderStack.from_dict(data["reader"]) if "reader" in data else None,
        )

    def uses_context(self, vector_space: str | None) -> bool:
        """Whether the article-context model applies to vectors of `vector_space`."""
        return self.context is not None and vector_space == self.context.vector_space

    def score_cut(self, clean_flag_rate: float, context: bool = True, reader: ArticleReading = None) -> float:
        """The sentence score below which `clean_flag_rate` of the clean development articles
        carry an off_topic flag (stored points, interpolated between them), for the scores of
        the reader stack on every article (`reader="always"`) or on what is in doubt
        (`"auto"`), the context model (`context`, when there is one) or the logistic model alone."""
        points = self.operating_points
        if reader == "always" and self.reader is not None:
            points = self.reader.operating_points
        elif reader == "auto" and self.reader is not None and self.reader.auto_operating_points is not None:
            points = self.reader.auto_operating_points
        elif not (context and self.context is not None) and self.row_operating_points is not None:
            points = self.row_operating_points
        rates, cuts = zip(*points)
        if not rates[0] <= clean_flag_rate <= rates[-1]:
            raise ValueError(f"flag_rate must be within [{rates[0]}, {rates[-1]}], got {clean_flag_rate}")
        return float(np.interp(clean_flag_rate, rates, cuts))

    def reading(self, reader: str | bool, own_vectors: bool) -> ArticleReading:
        """How a detector with `reader` ("auto", "always", "never", or True / False) reads
        articles: "always", "auto" or None (never). "auto" reads only when the detector's
        evidence is this model's own (`own_vectors`: the default speed, the vectors the
        article-context model weighs) and the shipped stack has a trigger."""
        use = reader_use(reader)
        if use == "always":
            return "always"
        in_doubt = use == "auto" and own_vectors and self.context is not None
        return "auto" if in_doubt and self.reader is not None and self.reader.reads_in_doubt else None

    def to_read(self, weighed: np.ndarray, features: np.ndarray, eligible: np.ndarray, reading: ArticleReading) -> np.ndarray | None:
        """Which sentences the reader reads in this article (None: none): every one ("always");
        on "auto", every one when a sentence in doubt is at the stack's `whole_trigger`, else
        those in doubt, with the windows that hold them (`ReaderStack.wanted`); none (None).
        Its logits then join the weighed probability (`reader.probability`)."""
        if self.reader is None or reading is None:
            return None
        if reading == "always":
            return np.ones(len(weighed), dtype=bool)
        return self.reader.wanted(self.stronger(weighed, features), eligible)

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature contribution to the log-odds, (n, n_features)."""
        return features * self.coef[None, :]

    def row_probability(self, features: np.ndarray) -> np.ndarray:
        """P(intruded | evidence) from the logistic model, each row alone."""
        logit = self.contributions(features).sum(axis=1) + self.intercept
        return 1.0 / (1.0 + np.exp(-logit))

    def weighed_probability(self, features: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
        """P(intruded | evidence): from the article-context model when there is one and the
        article's sentence vectors are given, else from the logistic model."""
        if self.context is None or vectors is None:
            return self.row_probability(features)
        return self.context.probability(vectors, features)

    def anchoring_probability(self, features: np.ndarray) -> np.ndarray:
        """P(intruded | unanchored, evidence) for unanchored rows, 0 for the others."""
        unanchored = features[:, self.features.index("unanchored")] > 0
        if self.anchoring is None or not unanchored.any():
            return np.zeros(len(features))
        return np.where(unanchored, self.anchoring.probability(features, self.features), 0.0)

    def stronger(self, weighed: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The stronger of the weighed probability and the anchoring detector's, per row."""
        return np.maximum(weighed, self.anchoring_probability(features))

    def probability(self, features: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
        """P(intruded | evidence) for every row: the stronger of the two detectors."""
        return self.stronger(self.weighed_probability(features, vectors), features)


@dataclass(frozen=True)
class ReaderStack:
    """P(intruded) from the weighed evidence and the reader model's logit together
    (`coherence.models.reader`): a logistic over the two log-odds and the larger of them, fitted on
    articles neither model was trained on (`training/fit_reader_stack.py`), with operating points
    of its own. The larger lets either side carry a verdict the other cannot see (the reader,
    trained on lone planted lines, does not take a block of teasers for stray; the detector's
    context model does) while a higher log-odds on either side never lowers the probability.

    Read where in doubt (`Detector(reader="auto")`): an article with a sentence that may be
    flagged at `whole_trigger` or above by the detector's own evidence is read whole; in another,
    only such sentences at `trigger` or above are read, with the windows that hold them
    (`coherence.models.reader_layout.windows_wanted`: a window or two, not the whole article).
    Every sentence the read windows alone hold is joined, the others keep that evidence's
    probability. `auto_operating_points` are the cuts for those mixed scores, from the same
    clean articles."""

    weighed_coef: float
    reader_coef: float
    intercept: float
    operating_points: tuple[tuple[float, float], ...]
    trigger: float | None = None
    auto_operating_points: tuple[tuple[float, float], ...] | None = None
    larger_coef: float = 0.0  # weight of the larger of the two log-odds
    whole_trigger: float | None = None  # at or above it an article is read whole (None: never whole on "auto")

    @classmethod
    def from_dict(cls, data: dict) -> "ReaderStack":
        auto = data.get("auto")
        return cls(
            float(data["weighed_coef"]), float(data["reader_coef"]), float(data["intercept"]), _points(data["operating_points"]),
            float(auto["trigger"]) if auto else None, _points(auto["operating_points"]) if auto else None,
            float(data.get("larger_coef", 0.0)), float(auto["whole_trigger"]) if auto and auto.get("whole_trigger") is not None else None,
        )  # fmt: skip

    def to_dict(self) -> dict:
        out: dict = {
            "weighed_coef": self.weighed_coef,
            "reader_coef": self.reader_coef,
            "larger_coef": self.larger_coef,
            "intercept": self.intercept,
            "operating_points": [list(p) for p in self.operating_points],
        }
        if self.trigger is not None and self.auto_operating_points is not None:
            out["auto"] = {"trigger": self.trigger, "whole_trigger": self.whole_trigger, "operating_points": [list(p) for p in self.auto_operating_points]}
        return out

    @property
    def reads_in_doubt(self) -> bool:
        """Whether this stack ships what `reader="auto"` needs (a trigger and its operating points)."""
        return self.trigger is not None and self.auto_operating_points is not None

    def doubtful(self, probability: np.ndarray, eligible: np.ndarray) -> np.ndarray:
        """Which sentences are in doubt: they may be flagged and are at the trigger or above by
        the detector's own evidence (`probability`, the stronger of its detectors)."""
        if self.trigger is None:
            return np.zeros(len(probability), dtype=bool)
        return (np.asarray(probability) >= self.trigger) & np.asarray(eligible, dtype=bool)

    def in_doubt(self, probability: np.ndarray, eligible: np.ndarray) -> bool:
        """Whether an article is worth reading: a sentence of it is `doubtful`."""
        return bool(self.doubtful(probability, eligible).any())

    def wanted(self, probability: np.ndarray, eligible: np.ndarray) -> np.ndarray | None:
        """What of an article the reader reads on "auto" (None: nothing): every sentence when
        one that may be flagged is at `whole_trigger` or above (a planted article often holds
        more than one planted line, and the others are ranked with the reader's help), else the
        `doubtful` ones, with the windows that hold them."""
        doubtful = self.doubtful(probability, eligible)
        if not doubtful.any():
            return None
        if self.whole_trigger is not None and bool(np.any(doubtful & (np.asarray(probability) >= self.whole_trigger))):
            return np.ones(len(doubtful), dtype=bool)
        return doubtful

    def probability(self, weighed: np.ndarray, reader_logits: np.ndarray) -> np.ndarray:
        """The joined probability; a sentence the reader did not read (a NaN logit) keeps
        `weighed`, as every sentence of an article left unread does."""
        logits = np.asarray(reader_logits, dtype=float)
        unread = np.isnan(logits)
        joined = join_reader(weighed, np.where(unread, 0.0, logits), (self.weighed_coef, self.reader_coef, self.larger_coef), self.intercept)
        return np.where(unread, weighed, joined)


def _points(pairs: list[list[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(rate), float(cut)) for rate, cut in pairs)


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
        "centroid_distance",
        *(f"{name}_x_topic_distance" for name in FORM_FEATURES),  # semantic distance, weighed by form
    }
)
# How much less similar to the topic than the typical sentence counts as "far" in words.
FAR_GAP = 0.05
_LEXICAL = frozenset({"lexical_novelty", "confident_novelty", "tfidf_distance", "tfidf_gap"})


def _named(evidence: TopicEvidence, index: int) -> str:
    """The sentence's new names as written, whole names kept together."""
    words = evidence.words[index]
    novel = set(evidence.links[index].novel_entities)
    mentions = [m for m in words.mentions if novel.issuperset(m)] or [(k,) for k in sorted(novel)]
    return ", ".join(dict.fromkeys(" ".join(words.names[k] for k in m) for m in mentions))


# How much the article-context model must raise a sentence's probability over its own row's
# before the explanation says so.
CONTEXT_GAIN = 0.2


def explain_off_topic(evidence: TopicEvidence, index: int, model: IntrusionModel, weighed: float | None = None) -> str:
    """Why sentence `index` looks off-topic, strongest evidence first, in plain words.

    `weighed`: the sentence's probability as the detector weighed it (the article-context
    model's, when it ran); default: the logistic model's, from the row alone.
    """
    row = evidence.features[index : index + 1]
    alone = float(model.row_probability(row)[0])
    weighed = alone if weighed is None else weighed
    contrib = dict(zip(model.features, model.contributions(row)[0]))
    topic_sim = evidence.topic.topic_similarity
    typical = float(np.median(topic_sim))
    link = evidence.links[index]
    anchors = evidence.anchors
    by_anchoring = bool(
        anchors.unanchored[index] and model.anchoring_probability(row)[0] >= weighed
    )
    far = round(typical, 2) - round(float(topic_sim[index]), 2) >= FAR_GAP - 1e-9  # as printed
    semantic = (
        f"its meaning is far from the article's main topic (similarity {topic_sim[index]:.2f}, "
        f"typical sentence {typical:.2f})"
        if far
        else f"its meaning alone is not far from the topic (similarity {topic_sim[index]:.2f}, "
        f"typical sentence {typical:.2f})"
    )
    parts: list[tuple[float, str]] = [(sum(v for k, v in contrib.items() if k in _SEMANTIC) if far else -np.inf, semantic)]
    novelty = 1.0 - link.lexical
    if novelty >= 0.5:
        parts.append(
            (
                sum(v for k, v in contrib.items() if k in _LEXICAL),
                f"{math.floor(novelty * 100)}% of its information (rare words and names) occurs nowhere else "
                "in the article's main story",
            )
        )
    if link.novel_entities and not link.shared_entities:
        weight = np.inf if by_anchoring else contrib.get("novel_entities", 0.0)
        text = f"it names {_named(evidence, index)}, none of which the article's main story mentions"
        if anchors.unanchored[index]:
            weight += contrib.get("unanchored", 0.0)
            text += (
                f", while {anchors.anchored_sentences} of the article's other "
                f"{anchors.naming_sentences - 1} sentences that name something share a name with the rest"
            )
        parts.append((weight, text))
    parts.sort(key=lambda p: -p[0])
    if not by_anchoring and weighed - alone >= CONTEXT_GAIN:
        parts.append(
            (
                -np.inf,
                f"read together with the rest of the article it stands out more than this evidence alone "
                f"shows (intrusion probability {weighed:.2f}, {alone:.2f} from its own evidence)",
            )
        )
    text = "; ".join(p[1] for p in parts)
    return text[0].upper() + text[1:] + "."
