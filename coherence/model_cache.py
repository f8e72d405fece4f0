"""The user cache of models built locally from the bundled weights (never downloaded).

A built model lives in ``<cache>/onnx/<name>-<fingerprint>/`` with a manifest. The
fingerprint covers the source weights (size and modification time of each file), the
export format and the onnxruntime version, so a changed source or a new build recipe lands
in a new folder; a missing, half-written or altered file (its checksum no longer matches
the manifest) is rebuilt. The cache root is ``$COHERENCE_CACHE_DIR``, else
``$XDG_CACHE_HOME/coherence``, else ``~/.cache/coherence``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coherence.onnx_export import EXPORT_FORMAT

__all__ = ["BuiltModel", "cache_root", "int8_model"]

MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
_SOURCE_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json")


@dataclass(frozen=True)
class BuiltModel:
    """A model in the cache: where it is, and whether this call had to build it."""

    path: Path
    built: bool
    seconds: float  # build time when built, else 0


def cache_root() -> Path:
    """Where coherence keeps models it builds."""
    if os.environ.get("COHERENCE_CACHE_DIR"):
        return Path(os.environ["COHERENCE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "coherence"


def _fingerprint(source: Path) -> str:
    import onnxruntime

    parts = [EXPORT_FORMAT, onnxruntime.__version__]
    for name in _SOURCE_FILES:
        path = source / name
        if path.is_file():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(folder: Path) -> bool:
    model, manifest = folder / MODEL_FILE, folder / MANIFEST_FILE
    if not (model.is_file() and manifest.is_file()):
        return False
    try:
        return json.loads(manifest.read_text()).get("sha256") == _sha256(model)
    except (OSError, ValueError):
        return False


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold the folder's build lock (one builder at a time; others wait, then find it built)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK_FILE).open("a")
    except OSError as exc:
        raise RuntimeError(
            f"cannot write the model cache {folder} ({exc.strerror or exc}); set COHERENCE_CACHE_DIR to a writable folder"
        ) from None
    with handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock; builds stay atomic, at worst they repeat
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_text(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def _build(source: Path, folder: Path, name: str) -> float:
    fd, name = tempfile.mkstemp(dir=folder, prefix=MODEL_FILE + ".", suffix=".partial")
    os.close(fd)
    partial = Path(name)
    started = time.perf_counter()
    print(f"coherence: building the int8 model of {name} once (about 10 s), into {folder} ...", file=sys.stderr, flush=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-m", "coherence.onnx_export", str(source), str(partial)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"could not build the int8 model from {source}: {tail}")
    seconds = time.perf_counter() - started
    manifest = {
        "format": EXPORT_FORMAT,
        "source": str(source),
        "sha256": _sha256(partial),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "build_seconds": round(seconds, 2),
    }
    os.replace(partial, folder / MODEL_FILE)  # atomic: a reader never sees half a file
    _replace_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return seconds


def int8_model(source: Path, name: str, rebuild: bool = False) -> BuiltModel:
    """The cached int8 ONNX model of the model directory `source`, built if missing or stale.

    Raises:
        RuntimeError: the build failed (its last lines of output say why).
    """
    folder = cache_root() / "onnx" / f"{name}-{_fingerprint(source)}"
    if not rebuild and _intact(folder):
        return BuiltModel(folder / MODEL_FILE, built=False, seconds=0.0)
    with _exclusive(folder):
        if not rebuild and _intact(folder):  # built by another process while this one waited
            return BuiltModel(folder / MODEL_FILE, built=False, seconds=0.0)
        seconds = _build(source, folder, name)
    return BuiltModel(folder / MODEL_FILE, built=True, seconds=seconds)
