"""The Detector: segment, embed, find the dominant topic, collect evidence, flag and score."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np

from coherence.encoders.base import DEFAULT_MODEL, Backend, Encoder, PageReaderUse, ReaderUse, Speed, model_name, prepare, vector_space
from coherence.encoders.factory import make_encoder
from coherence.detector_params import check_detector_params
from coherence.evidence.sentences import TopicEvidence
from coherence.models.intrusion import DEFAULT_FLAG_RATE, ArticleReading, IntrusionModel
from coherence.models.leftovers import LeftoverModel, PageReading
from coherence.models.reader import ReaderKind
from coherence.preparation import Article, PreparedArticle, prepare_article
from coherence.results import ArticleResult, ScoredArticle
from coherence.text.language import identifier
from coherence.weighing import conclude, weigh

__all__ = ["Detector", "Article", "Backend", "PageReaderUse", "ReaderUse", "ScoredArticle", "Speed"]

_ENCODER_PARAMS = frozenset({"model", "backend", "speed", "embedding_cache", "batch_size", "threads"})


class Detector:
    """Finds the sentences that do not belong in an article.

    Args:
        model: sentence-transformers model name or path (a str or a path object), or an object with
            ``encode(list[str]) -> np.ndarray`` of unit vectors. Default: the bundled
            all-MiniLM-L6-v2, loaded offline.
        threshold: article coherence below which `passed` is False.
        flag_rate: the shipped operating point to flag at, named by the share of clean
            development articles (untouched news) that get an off_topic flag there, within
            [0, 0.5]. Default 0.05: one clean article in twenty (0.10 finds a few more
            stray lines for twice the false flags; see reports/quality.md).
        off_topic_threshold: sentence score below which a sentence is flagged `off_topic`
            (the score is one minus the estimated intrusion probability); overrides
            `flag_rate`. `coherence.off_topic_threshold` picks one from your own corpus.
        companion_threshold: in an article with an off_topic flag, other sentences scored
            below this are flagged too (default 0.5): stray content comes in runs, so its
            companions need less evidence. None: no companion flags.
        min_sentences: fewest content sentences an article needs before any sentence is
            called off-topic (a dominant topic needs a majority to stand on).
        min_confidence: sentences carrying less topic information than this (a vague quote,
            "It will be quite a sight.") are scored but never called off-topic: there is too
            little in them to tell.
        backend: "onnx" (None means it: the default): an int8 copy of the model built locally
            on first use and cached (`coherence prepare`), run by onnxruntime without torch,
            2-3x fp32's speed (the CPU decides); the shipped weights were fitted on its
            vectors. "torch": sentence-transformers in fp32, the exact reference.
        speed: "default", or "fast": first-pass triage of huge corpora, a weighted bag of
            token vectors distilled locally from the bundled model (no network runs), many
            times faster and markedly less accurate (reports/speed.md): sort a crawl with
            it, score what it keeps with the default. Bundled model only, `backend` None.
        leftovers: find extraction leftovers line by line (teasers, captions, calls to action,
            bylines, stamps) from each line's form, place and language
            (coherence.models.leftovers); a sentence's score is never above one minus its
            line's leftover probability. False: topic evidence only.
        leftover_threshold: leftover probability above which a line is flagged; None: the
            shipped cut (2% of article lines of held-out scraped pages flagged, half of them
            with site counts; about 1% of those scored without, as `score` scores a page).
        leftover_companion_threshold: a line next to a flagged leftover line (or a run of
            them) is flagged too when its own leftover probability is above this: leftovers
            come in blocks (a list of teasers under "Related stories"). None: no companions.
        embedding_cache: sentences whose vectors are kept for reuse, least recently used out
            first (0: none), about 1.5 KB a sentence.
        batch_size: sentences per forward pass of the model.
        articles_per_batch: articles whose sentences `score_many` embeds together.
        threads: cores the encoder may use (a batch worker's share); None: the encoder's choice.
        reader: what the reader model (`coherence.models.reader`) reads, the article as one text
            in windows: "auto", at the default speed, what is in doubt (the whole article when a
            sentence that may be flagged is at the shipped whole trigger or above by the other
            evidence, else the windows that hold one at the trigger or above: two fifths of clean
            news articles' windows); "always" (every window of every article); "never"; True /
            False mean "always" / "never".
        page_reader: which texts the page reader (adapters trained on real scraped pages) reads
            line by line to find leftovers: "auto", at the default speed only those on which the
            line model finds a line that may be page furniture; "always"; "never".

    Like a scikit-learn estimator, the constructor only stores its arguments: they are checked
    on first use (`score`, `score_many`, `prepare`), and `set_params` changes them. State made
    on use has a trailing underscore and exists once made: `encoder_`, `intrusion_model_` and
    `readers_` (loaded on first use), `line_counts_` (set by `count_lines`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | Encoder = DEFAULT_MODEL,
        threshold: float = 0.8,
        flag_rate: float = DEFAULT_FLAG_RATE,
        off_topic_threshold: float | None = None,
        companion_threshold: float | None = 0.5,
        min_sentences: int = 4,
        min_confidence: float = 0.2,
        backend: Backend | None = None,
        speed: Speed = "default",
        leftovers: bool = True,
        leftover_threshold: float | None = None,
        leftover_companion_threshold: float | None = 0.5,
        embedding_cache: int = 10_000,
        batch_size: int = 64,
        articles_per_batch: int = 64,
        threads: int | None = None,
        reader: ReaderUse | bool = "auto",
        page_reader: PageReaderUse = "auto",
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.flag_rate = flag_rate
        self.off_topic_threshold = off_topic_threshold
        self.companion_threshold = companion_threshold
        self.min_sentences = min_sentences
        self.min_confidence = min_confidence
        self.backend = backend
        self.speed = speed
        self.leftovers = leftovers
        self.leftover_threshold = leftover_threshold
        self.leftover_companion_threshold = leftover_companion_threshold
        self.embedding_cache = embedding_cache
        self.batch_size = batch_size
        self.articles_per_batch = articles_per_batch
        self.threads = threads
        self.reader = reader
        self.page_reader = page_reader

    # -- public API ---------------------------------------------------------------------
    def score(self, article: Article, site: str | None = None) -> ArticleResult:
        """Score one article: a string, or a list of pre-split sentences. `site` names the
        site it came from, for the line repeats counted by `count_lines`.

        Raises:
            TypeError: the article is neither a string nor a list of strings.
            ValueError: the article has no text.
        """
        self.check_params()
        prepared = self._prepare(article, site)
        vectors = self._encode(prepared.content_texts)
        return self._finish_with_evidence(prepared, vectors)[0]

    def score_with_vectors(self, article: Article) -> ScoredArticle:
        """Score one article as `score` does, and keep its sentence vectors and which of
        them form the dominant topic."""
        self.check_params()
        prepared = self._prepare(article)
        vectors = self._encode(prepared.content_texts)
        result, evidence = self._finish_with_evidence(prepared, vectors)
        in_topic = evidence.topic.in_topic if evidence is not None else np.zeros(0, dtype=bool)
        return ScoredArticle(result, vectors, prepared.content, np.asarray(in_topic, dtype=bool))

    def score_many(
        self, articles: Iterable[Any], ids: Iterable[Any] | None = None, sites: Iterable[str | None] | None = None
    ) -> Iterator[ArticleResult]:
        """Score articles lazily, embedding the sentences of many articles in shared batches.
        `sites` names each article's site, for the line repeats counted by `count_lines`.

        Records that cannot be scored (not text, empty) yield a result with `error` set;
        they never stop the stream and are never dropped. Bad detector arguments (and a single
        string for `articles`) raise here, before the first article; `ids` or `sites` that run
        out before the articles raise ValueError once the articles before are yielded.
        """
        self.check_params()
        if isinstance(articles, (str, bytes)):  # iterated, it would score each character as an article
            raise TypeError("score_many takes an iterable of articles; score one text with score()")
        from coherence.streaming import score_stream

        return score_stream(self, articles, ids, sites)

    def count_lines(self, pages: Iterable[tuple[str | None, Any]], memory_mb: int = 64) -> Detector:
        """Count, over (site, article) pairs, how many pages of each site hold each line, so
        that scoring knows a site's template lines (a footer seen on 400 pages). Learned
        state, like a fit: kept in `line_counts_` until counted again. Costs one pass over
        the text and `memory_mb` of memory (see `coherence.evidence.line_counts`)."""
        from coherence.evidence.line_counts import LineCounts, site_of

        counts = LineCounts(memory_mb)
        for site, article in pages:
            if isinstance(article, str):
                counts.add(site_of(site), article.splitlines())
            elif isinstance(article, Sequence):
                counts.add(site_of(site), [s for s in article if isinstance(s, str)])
        self.line_counts_ = counts
        return self

    def prepare(self) -> None:
        """Build now what scoring needs (the int8 model, the fast tier's token table, the unpacked
        language model) rather than on first use: batch runs call it before their workers start."""
        self.check_params()
        prepare(self.encoder)
        identifier()
        if self.article_reading is not None:
            self.reader_for("article").prepare()
        if self.uses_page_reader:
            self.reader_for("page").prepare()

    def load(self) -> Detector:
        """Load now, side by side, what the first article would otherwise load one piece after
        another: the encoder's model, the readers this detector may use and the word-frequency
        table. Each load mostly runs outside the GIL, so one `coherence score` waits for about
        the slowest of them instead of their sum; batch workers need not call it. What is not
        built yet is built first, one model at a time (`prepare`)."""
        from concurrent.futures import ThreadPoolExecutor

        from coherence.encoders.base import load
        from coherence.text.lexicon import load_word_frequencies

        self.prepare()
        jobs = [partial(load, self.encoder), load_word_frequencies]  # objects made here, loaded there
        if self.article_reading is not None:
            jobs.append(self.reader_for("article").load)
        if self.uses_page_reader:
            jobs.append(self.reader_for("page").load)
        with ThreadPoolExecutor(len(jobs), thread_name_prefix="coherence-load") as pool:
            for running in [pool.submit(job) for job in jobs]:
                running.result()
        return self

    def get_params(self) -> dict[str, Any]:
        """The constructor arguments, so the same Detector can be built in another process."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        """The arguments that differ from the defaults, as scikit-learn shows an estimator."""
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items() if not _same(value, defaults.get(name))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickles without the shipped weights (the shipped default, reloaded on first use)."""
        state = self.__dict__.copy()
        state.pop("intrusion_model_", None)
        state.pop("readers_", None)  # onnxruntime sessions: loaded again on first use
        return state

    def set_params(self, **params: Any) -> Detector:
        """Change constructor arguments (checked on next use); an encoder built from the old
        ones is dropped. Returns the detector."""
        names = set(self.get_params())
        unknown = sorted(set(params) - names)
        if unknown:
            raise ValueError(f"unknown Detector parameter(s): {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
        for name, value in params.items():
            setattr(self, name, value)
        if _ENCODER_PARAMS & set(params):
            self.__dict__.pop("encoder_", None)
            self.__dict__.pop("readers_", None)
        if "speed" in params:
            self.__dict__.pop("intrusion_model_", None)
        return self

    def check_params(self) -> Detector:
        """Raise ValueError (TypeError for a wrong type) for an argument out of range. Cheap:
        every entry point calls it."""
        check_detector_params(self)
        return self

    # -- steps ----------------------------------------------------------------------------
    @property
    def intrusion_model(self) -> IntrusionModel:
        if getattr(self, "intrusion_model_", None) is None:
            self.intrusion_model_ = IntrusionModel.default(self.speed)
        return self.intrusion_model_

    @property
    def leftover_cut(self) -> float:
        """Leftover probability above which a line is flagged (on a page the page reader did not read)."""
        return LeftoverModel.default().cut if self.leftover_threshold is None else self.leftover_threshold

    @property
    def off_topic_cut(self) -> float:
        """Sentence score below which an eligible sentence is flagged off_topic."""
        if self.off_topic_threshold is not None:
            return self.off_topic_threshold
        return self.cut_at(self.flag_rate)

    def cut_at(self, flag_rate: float) -> float:
        """The score cut of the shipped operating point `flag_rate` for the scores this detector gives."""
        return self.intrusion_model.score_cut(flag_rate, self.uses_context, reader=self.article_reading)

    def reader_for(self, kind: ReaderKind = "article") -> Any:
        """A reader model's runner, made on first use."""
        readers = self.__dict__.setdefault("readers_", {})
        if kind not in readers:
            from coherence.encoders.reader_encoder import ReaderEncoder

            readers[kind] = ReaderEncoder(self.threads, kind)
        return readers[kind]

    @property
    def article_reading(self) -> ArticleReading:
        """How this detector reads articles: "always", "auto" (those in doubt) or None (never)."""
        return self.intrusion_model.reading(self.reader, self.speed == "default" and self.uses_context)

    @property
    def uses_page_reader(self) -> bool:
        """Whether the page reader may read a text's lines (`page_reader`, when shipped)."""
        wanted = self.page_reader == "always" or (self.page_reader == "auto" and self.speed == "default")
        return bool(wanted and self.leftovers and LeftoverModel.default().reader is not None)

    def page_reading(self) -> PageReading | None:
        """How the page reader reads, None when it does not."""
        stack = LeftoverModel.default().reader
        if not self.uses_page_reader or stack is None:
            return None
        cut = stack.cut if self.leftover_threshold is None else self.leftover_threshold
        return PageReading(self.reader_for("page").logits, cut, always=self.page_reader == "always")

    @property
    def uses_context(self) -> bool:
        """Whether sentences are weighed by the article-context model: only on vectors of the
        embedding model it was trained on (the default model); other models' vectors are
        weighed by the logistic model, each sentence's evidence alone."""
        return self.intrusion_model.uses_context(vector_space(self.encoder))

    @property
    def encoder(self) -> Encoder:
        """The encoder in use: built from `model`, `speed` and `backend` on first use (behind a
        cache of `embedding_cache` sentences, except the fast tier's, which is cheaper than a
        look-up), or `model` itself when it is an encoder object."""
        if getattr(self, "encoder_", None) is None:
            if (name := model_name(self.model)) is not None:
                self.encoder_ = make_encoder(
                    name, self.backend, self.speed, self.batch_size, self.embedding_cache, self.threads
                )
            else:
                self.encoder_ = self.model
        return self.encoder_

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)

    def _prepare(self, article: Article, site: str | None = None) -> PreparedArticle:
        site_repeats = None
        if getattr(self, "line_counts_", None) is not None and site is not None:
            from coherence.evidence.line_counts import site_of

            site_repeats = partial(self.line_counts_.seen, site_of(site))

        cut = self.leftover_cut if self.leftovers else None
        return prepare_article(article, cut, self.leftover_companion_threshold, site_repeats, self.page_reading())

    def _finish_with_evidence(self, prepared: PreparedArticle, vectors: np.ndarray) -> tuple[ArticleResult, TopicEvidence | None]:
        """Topic evidence for the content sentences, then scores, flags and coherence."""
        return conclude(self, weigh(self, prepared, vectors))


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter is at its default (an object without a usable == counts as changed)."""
    try:
        return bool(value is default or value == default)
    except Exception:  # noqa: BLE001 - e.g. an array's ambiguous truth value
        return False
