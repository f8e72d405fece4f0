"""Run the reader model (`coherence.models.reader`) on an article: one logit of 'planted' per sentence.

The int8 graph gives token states for a window; the head (numpy) scores each sentence of the
window from its pooled tokens; a sentence held by several windows gets the mean of its logits.
One window per pass, for the reason the sentence encoder gives: int8 activations are scaled per
pass, and a window's logits must not depend on what else is in the batch. Passes run one core
each, several at once (as the sentence encoder's do).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from coherence.encoders.onnx_session import one_core_session, pass_pool
from coherence.models.reader import Adapters, ReaderKind, adapters_file, pool_sentences
from coherence.models.reader_layout import Window, fully_read, lay_out, per_sentence, reader_tokenizer, windows_wanted

__all__ = ["ReaderEncoder"]


class ReaderEncoder:
    """Reads articles (or, `kind="page"`, scraped pages line by line) with the bundled model
    and a reader's shipped adapters (built once, cached)."""

    def __init__(self, threads: int | None = None, kind: ReaderKind = "article") -> None:
        self.threads = threads
        self.kind = kind
        self.session_: Any = None
        self.built_: Any = None
        self.pool_: ThreadPoolExecutor | None = None

    def prepare(self, rebuild: bool = False) -> Any:
        """Build the reader model into the user cache when it is missing or stale."""
        from coherence.encoders.base import default_model_path
        from coherence.encoders.model_cache import reader_model

        self.built_ = reader_model(default_model_path(), "all-MiniLM-L6-v2", rebuild=rebuild, kind=self.kind)
        return self.built_

    def load(self) -> None:
        """Load the session, head and tokenizer now (else on first use; again in a forked child)."""
        if self.session_ is None or self.pid_ != os.getpid():
            self._load()

    def _load(self) -> None:
        from coherence.encoders.base import default_model_path

        built = self.built_ or self.prepare()
        adapters = Adapters.default(self.kind)
        if adapters is None:
            raise RuntimeError(f"this installation ships no {self.kind} reader adapters (coherence/models/{adapters_file(self.kind)})")
        self.session_ = one_core_session(built.path)
        self.head_ = adapters.head
        self.tokenizer_ = reader_tokenizer(Path(default_model_path()))
        self.ids_ = (self.tokenizer_.token_to_id("[CLS]"), self.tokenizer_.token_to_id("[SEP]"))
        self.pid_ = os.getpid()
        self.pool_ = pass_pool(self.threads, "coherence-reader")

    def logits(self, sentences: Sequence[str]) -> np.ndarray:
        """Logit that each sentence was planted from another story, read in the article's order
        (the first sentence is the anchor of every window and gets the windows' mean); for the
        page reader, that each line of a page is extraction leftover."""
        return self.start(sentences)()

    def start(self, sentences: Sequence[str], wanted: np.ndarray | None = None) -> Callable[[], np.ndarray]:
        """Queue the passes of `logits(sentences)` on the pass threads and return the call that
        waits for them: the caller goes on (the next article's evidence) while they run, so
        reading overlaps the rest of scoring. Without pass threads the passes run here, now.

        `wanted` (a mask over the sentences; None: all) reads only the windows that hold a
        wanted sentence: those get the logit reading every window gives them, and so does any
        other sentence held by read windows alone; the rest get NaN (not read). Reading an
        article where its sentences are in doubt costs a window or two, not all of them."""
        self.load()
        n = len(sentences)
        if n == 0:
            return lambda: np.zeros(0)
        # one by one: encode_batch hands an article's few sentences to rayon's threads, which
        # wait behind the passes already running on every core (13 ms an article instead of 1)
        tokens = [self.tokenizer_.encode(s, add_special_tokens=False).ids for s in sentences]
        windows = lay_out(tokens, *self.ids_, anchored=self.kind == "article")
        unread = np.zeros(n, dtype=bool)
        if wanted is not None and not np.all(wanted):  # all wanted: every window, as without a mask
            members = [w.sentences for w in windows]
            read = windows_wanted(members, np.asarray(wanted, dtype=bool))
            unread = ~fully_read(members, read, n)
            windows = [w for w, r in zip(windows, read) if r]
        if self.pool_ is None:
            done = [self._pooled(w) for w in windows]
            return lambda: _mark_unread(per_sentence(windows, map(self.head_.logits, done), n), unread)
        running = [self.pool_.submit(self._pooled, w) for w in windows]
        return lambda: _mark_unread(per_sentence(windows, (self.head_.logits(f.result()) for f in running), n), unread)

    def _pooled(self, window: Window) -> np.ndarray:
        """One window's pass (onnxruntime releases the GIL while it runs), each sentence's tokens
        pooled. The head runs in the caller's thread, under its BLAS settings, so that a logit
        does not depend on which thread read the window."""
        ids = window.ids[None, :]
        inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        return pool_sentences(self.session_.run(None, inputs)[0][0], window.spans)


def _mark_unread(logits: np.ndarray, unread: np.ndarray) -> np.ndarray:
    logits[unread] = np.nan
    return logits
