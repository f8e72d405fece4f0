"""The language of an article and of its lines, by py3langid (its model ships in the wheel).

Language decides what evidence applies: the topic model reads English only, so a
non-English article gets only language-independent flags, and a line in another language
than its article's is a leftover (a menu, a cookie banner, a quote box from a sister site).
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["ENGLISH", "MIN_LINE_WORDS", "identifier", "is_english", "language_of", "line_language", "unpacked_model"]

ENGLISH = "en"
MIN_LINE_WORDS = 6  # shorter lines are named too unreliably ("Photo: Getty Images" reads as pidgin)
_MIN_LINE_CONFIDENCE = 0.95
_MIN_ARTICLE_CONFIDENCE = 0.5


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")


@lru_cache(maxsize=1)
def identifier() -> Any:
    """The identifier, loaded once per process.

    py3langid ships its model LZMA-compressed and unpacks it on every load (about 0.6 s, most
    of a single article's start-up); the unpacked arrays are kept in the user cache
    (`unpacked_model`), one file each, and the two large ones are memory-mapped: a text reads
    only the rows of its own features and the states its bytes walk through, so loading costs
    a few milliseconds instead of reading 68 MB, and processes share the pages.
    """
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    unpacked = unpacked_model(MODEL_DIR / MODEL_FILE)
    if unpacked is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    arrays = {name: np.load(unpacked / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
    return LanguageIdentifier(
        arrays["ptc"], np.array(arrays["pc"]), arrays["classes"].tolist(), memoryview(arrays["nextmove"]),
        arrays["out_feat"].tolist(), norm_probs=True, tk_row=_typed_array(arrays["nextmove_row"]),
    )  # fmt: skip


def unpacked_model(packed: Path) -> Path | None:
    """The folder of py3langid's model unpacked in the user cache (an .npy file per array),
    written on first use and named by the packed file's size and date, so a new py3langid
    unpacks again; None when the cache cannot be written or the model's layout is not the one
    read here."""
    import lzma
    import shutil

    import numpy as np

    from coherence.encoders.model_cache import cache_root

    stat = packed.stat()
    target = cache_root() / "langid" / f"arrays-{stat.st_size}-{stat.st_mtime_ns}"
    if target.is_dir():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(dir=target.parent, suffix=".partial"))
        archive = temporary / "model.npz"
        with archive.open("wb") as handle, lzma.open(packed) as source:
            while block := source.read(1 << 20):
                handle.write(block)
        with np.load(archive, allow_pickle=False) as data:
            if not set(_ARRAYS) <= set(data.files):
                shutil.rmtree(temporary)
                return None
            for name in _ARRAYS:
                np.save(temporary / f"{name}.npy", data[name])
        archive.unlink()
        try:
            os.replace(temporary, target)  # atomic: another process never reads half a folder
        except OSError:  # another process wrote it first
            shutil.rmtree(temporary, ignore_errors=True)
    except OSError:
        return None
    return target if target.is_dir() else None


def _typed_array(values: Any) -> Any:
    """An unsigned NumPy array as the stdlib array py3langid's state machine walks."""
    from array import array

    out = array({2: "H", 4: "I", 8: "L"}[values.dtype.itemsize])
    out.frombytes(values.tobytes())
    return out


def is_english(language: str | None) -> bool:
    """Whether the topic model reads an article in this language: English, or too short to
    tell (None). Its models were fitted on English; any other language gets only the flags
    that do not read meaning."""
    return language in (None, ENGLISH)


def language_of(text: str) -> str | None:
    """The ISO 639-1 code of the text's language, or None when too little text or too unsure."""
    if len(text.split()) < MIN_LINE_WORDS:
        return None
    code, probability = identifier().classify(text[:5000])
    return str(code) if probability >= _MIN_ARTICLE_CONFIDENCE else None


def line_language(text: str) -> str | None:
    """A line's language when it is named with high confidence, else None."""
    if len(text.split()) < MIN_LINE_WORDS:
        return None
    code, probability = identifier().classify(text)
    return str(code) if probability >= _MIN_LINE_CONFIDENCE else None
