"""The user cache of models built locally from the bundled weights (never downloaded).

Four kinds are built: the int8 ONNX copy (``backend="onnx"``), the token table of the fast
tier (``speed="fast"``) and the two reader models (the bundled weights with shipped adapters
merged in, int8). A built model lives in ``<cache>/<kind>/<name>-<fingerprint>/`` with
a manifest. The fingerprint covers the source weights (size and modification time of each
file), the recipe's format and the version of the library that shapes the result
(onnxruntime, wordfreq) and the checksum of any shipped file the build reads (the reader's
adapters), so a changed source or a new build recipe lands in a new folder; a
missing, half-written or altered file (its size or modification time no longer matches the
manifest) is rebuilt.
The cache root is ``$COHERENCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/coherence``, else
``~/.cache/coherence``.

Builds run in a child process, ``python -m coherence.encoders.model_cache KIND SOURCE_DIR TARGET``
(KIND: onnx, static, reader or page_reader), so torch never loads into the process that scores.
"""

from __future__ import annotations

import argparse
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
from functools import lru_cache
from importlib import resources
from pathlib import Path

from coherence.encoders.onnx_export import EXPORT_FORMAT
from coherence.encoders.reader_export import READER_FORMAT
from coherence.encoders.static_export import STATIC_FORMAT
from coherence.models.reader import PAGE_READER_ADAPTERS, READER_ADAPTERS, ReaderKind

__all__ = ["BuiltModel", "cache_root", "int8_model", "reader_model", "token_table"]

MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
_SOURCE_FILES = ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json")


@dataclass(frozen=True)
class BuiltModel:
    """A model in the cache: where it is, and whether this call had to build it."""

    path: Path
    built: bool
    seconds: float  # build time when built, else 0


@dataclass(frozen=True)
class _Recipe:
    """How one kind of model is built: its export function, run in a child process."""

    kind: str  # the cache's sub-folder
    export: str  # "module:function", called as function(source_dir, target_file)
    file: str
    format: str
    library: str  # the distribution whose version enters the fingerprint
    what: str  # for messages
    duration: str
    shipped: tuple[str, ...] = ()  # files of coherence.models the build reads (their checksums enter the fingerprint)


_INT8 = _Recipe(
    "onnx", "coherence.encoders.onnx_export:export_int8", "model.onnx", EXPORT_FORMAT, "onnxruntime", "int8 model", "about 10 s",
)  # fmt: skip
_TABLE = _Recipe(
    "static", "coherence.encoders.static_export:export_static", "tokens.npz", STATIC_FORMAT, "wordfreq", "fast tier's token table", "about 20 s"
)
_READER = _Recipe(
    "reader", "coherence.encoders.reader_export:export_reader_int8", "reader.onnx", READER_FORMAT, "onnxruntime",
    "reader model (bundled weights + shipped adapters, int8)", "about 15 s", shipped=(READER_ADAPTERS,),
)  # fmt: skip
_PAGE_READER = _Recipe(
    "page_reader", "coherence.encoders.reader_export:export_page_reader_int8", "page_reader.onnx", READER_FORMAT, "onnxruntime",
    "page reader model (bundled weights + shipped page adapters, int8)", "about 15 s", shipped=(PAGE_READER_ADAPTERS,),
)  # fmt: skip


def cache_root() -> Path:
    """Where coherence keeps models it builds."""
    if os.environ.get("COHERENCE_CACHE_DIR"):
        return Path(os.environ["COHERENCE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "coherence"


@lru_cache(maxsize=None)
def _library_version(name: str) -> str:
    """The version of the library `name`: its module's own `__version__` (which also holds
    when it came in a package of another name, such as onnxruntime-gpu, and costs nothing
    once the module is imported, as it will be to run the model), else the installed
    distribution's (importing importlib.metadata and reading it cost 30-50 ms a start)."""
    from importlib import import_module

    version = getattr(import_module(name), "__version__", None)
    if version is not None:
        return str(version)
    from importlib.metadata import version as installed_version

    return installed_version(name)


def _fingerprint(recipe: _Recipe, source: Path) -> str:
    parts = [recipe.format, _library_version(recipe.library)]
    for name in _SOURCE_FILES:
        path = source / name
        if path.is_file():
            stat = path.stat()
            parts.append(f"{name}:{stat.st_size}:{stat.st_mtime_ns}")
    for name in recipe.shipped:
        shipped = resources.files("coherence.models").joinpath(name)
        parts.append(f"{name}:{hashlib.sha256(shipped.read_bytes()).hexdigest() if shipped.is_file() else 'missing'}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(folder: Path, file: str) -> bool:
    """Whether the built file is the one its manifest describes. The file's size and modification
    time are checked, not its checksum: hashing three models cost a tenth of a second at every
    start, and a truncated, rewritten or replaced file changes them. A manifest from before they
    were recorded is checked by checksum once and then given them."""
    model, manifest = folder / file, folder / MANIFEST_FILE
    if not (model.is_file() and manifest.is_file()):
        return False
    try:
        recorded, stamp = json.loads(manifest.read_text()), _file_stamp(model)
        if stamp.keys() <= recorded.keys():
            return all(recorded[key] == value for key, value in stamp.items())
        if recorded.get("sha256") != _sha256(model):
            return False
        _replace_text(manifest, json.dumps({**recorded, **stamp}, indent=2) + "\n")
        return True
    except (OSError, ValueError):
        return False


def _file_stamp(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


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


def _build(recipe: _Recipe, source: Path, folder: Path, name: str) -> float:
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=recipe.file + ".", suffix=".partial")
    os.close(fd)
    partial = Path(temporary)
    started = time.perf_counter()
    print(
        f"coherence: building the {recipe.what} of {name} once ({recipe.duration}), into {folder} ...",
        file=sys.stderr,
        flush=True,
    )
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-m", __name__, recipe.kind, str(source), str(partial)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"could not build the {recipe.what} from {source}: {tail}")
    seconds = time.perf_counter() - started
    manifest = {
        "format": recipe.format,
        "source": str(source),
        "sha256": _sha256(partial),
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "build_seconds": round(seconds, 2),
    }
    os.replace(partial, folder / recipe.file)  # atomic: a reader never sees half a file
    manifest.update(_file_stamp(folder / recipe.file))
    _replace_text(folder / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return seconds


def _cached(recipe: _Recipe, source: Path, name: str, rebuild: bool) -> BuiltModel:
    folder = cache_root() / recipe.kind / f"{name}-{_fingerprint(recipe, source)}"
    if not rebuild and _intact(folder, recipe.file):
        return BuiltModel(folder / recipe.file, built=False, seconds=0.0)
    with _exclusive(folder):
        if not rebuild and _intact(folder, recipe.file):  # built by another process while this one waited
            return BuiltModel(folder / recipe.file, built=False, seconds=0.0)
        seconds = _build(recipe, source, folder, name)
    return BuiltModel(folder / recipe.file, built=True, seconds=seconds)


def int8_model(source: Path, name: str, rebuild: bool = False) -> BuiltModel:
    """The cached int8 ONNX model of the model directory `source`, built if missing or stale.

    Raises:
        RuntimeError: the build failed (its last lines of output say why).
    """
    return _cached(_INT8, source, name, rebuild)


def token_table(source: Path, name: str, rebuild: bool = False) -> BuiltModel:
    """The cached token table (`coherence.encoders.static_export`) of `source`, built if missing or stale.

    Raises:
        RuntimeError: the build failed (its last lines of output say why).
    """
    return _cached(_TABLE, source, name, rebuild)


def reader_model(source: Path, name: str, rebuild: bool = False, kind: ReaderKind = "article") -> BuiltModel:
    """The cached reader model of `kind` (`coherence.encoders.reader_export`): `source` with
    its shipped adapters merged in, int8; built if missing or stale (new adapters are a new build).

    Raises:
        RuntimeError: the build failed (its last lines of output say why).
    """
    return _cached(_READER if kind == "article" else _PAGE_READER, source, name, rebuild)


_RECIPES = {recipe.kind: recipe for recipe in (_INT8, _TABLE, _READER, _PAGE_READER)}


def main(argv: list[str] | None = None) -> None:
    """The child process of a build: run one recipe's export."""
    from importlib import import_module

    parser = argparse.ArgumentParser(description="build one kind of cached model from a local model directory")
    parser.add_argument("kind", choices=tuple(_RECIPES), help="onnx: the int8 model; static: the fast tier's token table; reader, page_reader: the reader models")
    parser.add_argument("source", type=Path, help="sentence-transformers model directory")
    parser.add_argument("target", type=Path, help="the file to write")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    module, function = _RECIPES[args.kind].export.split(":")
    getattr(import_module(module), function)(args.source, args.target)


if __name__ == "__main__":
    main()
