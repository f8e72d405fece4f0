"""Distil a sentence-transformers model into a table of token vectors, from its local weights.

Each token of the vocabulary is run through the model alone (``[CLS] token [SEP]``) and its
mean-pooled output is kept: a static embedding in the model's own space, one row per token.
The table also holds each token's word frequency (wordfreq), from which the fast tier weighs
tokens (rare words count more). Nothing is downloaded: the source is a model directory on disk.

The model cache (`coherence.encoders.model_cache`) runs it in a child process
(``python -m coherence.encoders.model_cache static SOURCE_DIR TARGET.npz``), so torch never loads into
the process that scores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["STATIC_FORMAT", "export_static"]

# Bump when the table's recipe changes: cached copies are then rebuilt.
STATIC_FORMAT = "token-table-cls-tok-sep-meanpool-wordfreq-v1"
_TOKENS_PER_PASS = 1024


def token_frequencies(tokenizer_file: Path) -> np.ndarray:
    """wordfreq's English frequency of each vocabulary entry (a "##" piece as its letters)."""
    from tokenizers import Tokenizer
    from wordfreq import word_frequency

    vocab = Tokenizer.from_file(str(tokenizer_file)).get_vocab()
    frequency = np.zeros(len(vocab), dtype=np.float64)
    for token, index in vocab.items():
        word = token.removeprefix("##")
        if word.isascii() and not (word.startswith("[") and word.endswith("]")):
            frequency[index] = word_frequency(word, "en")
    return frequency


def export_static(source: Path, target: Path) -> None:
    """Write `source`'s token table (``vectors``, ``frequency``) to `target` (an .npz)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    torch.manual_seed(0)
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    if cls is None or sep is None:
        raise ValueError(f"{source}: the fast tier needs a BERT-style tokenizer with [CLS] and [SEP]")
    model = AutoModel.from_pretrained(str(source)).eval()
    size = tokenizer.get_vocab_size()
    vectors = np.zeros((size, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, size, _TOKENS_PER_PASS):
            ids = torch.arange(start, min(start + _TOKENS_PER_PASS, size))[:, None]
            batch = torch.cat([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = model(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            vectors[start : start + len(ids)] = hidden.mean(dim=1).numpy()
    with target.open("wb") as handle:
        np.savez(handle, vectors=vectors, frequency=token_frequencies(source / "tokenizer.json"))

