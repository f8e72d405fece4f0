"""How coherence runs an int8 graph: one core per pass, several passes at once.

For the short sequences coherence feeds (a sentence, a window of an article) this beats
splitting each pass over the cores (about 700 against 450 sentences/s on 2 cores), and one pass
per input keeps a result independent of its batch-mates (int8 activations are scaled per pass).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from coherence.encoders.cpus import usable_cores

__all__ = ["one_core_session", "pass_pool"]


def one_core_session(path: Path) -> Any:
    """An onnxruntime session of the graph at `path` that runs each pass on one core.

    Raises:
        RuntimeError: the file is not a graph onnxruntime can load (rebuild it).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors are not RuntimeErrors
        raise RuntimeError(f"could not load {path}: {exc}; `coherence prepare --rebuild` builds it again") from None


def pass_pool(threads: int | None, name: str) -> ThreadPoolExecutor | None:
    """Threads that run passes side by side (onnxruntime releases the GIL), `threads` or the
    usable cores of them; None when that is one."""
    count = threads or usable_cores()
    return ThreadPoolExecutor(count, thread_name_prefix=name) if count > 1 else None
