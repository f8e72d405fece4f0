"""Build the reader model (`coherence.models.reader`) in the user cache: the bundled weights with
the shipped adapters merged in, exported to int8 ONNX as token states.

Run by the model cache in a child process (``python -m coherence.encoders.model_cache reader
SOURCE_DIR TARGET.onnx``), like the int8 sentence encoder: torch loads there, never where
articles are scored.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from coherence.models.reader import ReaderKind

__all__ = ["READER_FORMAT", "export_reader_int8", "export_page_reader_int8"]

# Bump when the merge or the exported graph changes; the adapters' own checksum enters the
# cache fingerprint, so new adapters are rebuilt without a bump.
READER_FORMAT = "reader-lora-merged-token-states-int8-fused-v2"
_COPIED = ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def export_reader_int8(source: Path, target: Path, kind: ReaderKind = "article") -> None:
    """Merge a reader's shipped adapters into `source`'s weights and write the int8 graph to `target`."""
    from safetensors.numpy import load_file, save_file

    from coherence.encoders.onnx_export import export_int8
    from coherence.models.reader import Adapters, adapters_file, merge_adapters

    adapters = Adapters.default(kind)
    if adapters is None:
        raise RuntimeError(f"this installation ships no {kind} reader adapters (coherence/models/{adapters_file(kind)})")
    with tempfile.TemporaryDirectory() as work:
        merged = Path(work)
        for name in _COPIED:
            if (source / name).is_file():
                shutil.copy(source / name, merged / name)
        save_file(merge_adapters(load_file(str(source / "model.safetensors")), adapters), str(merged / "model.safetensors"))
        export_int8(merged, target, pooled=False)


def export_page_reader_int8(source: Path, target: Path) -> None:
    """The page reader's build (`export_reader_int8` with the page adapters)."""
    export_reader_int8(source, target, "page")
