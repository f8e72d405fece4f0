"""The files beside a batch output: its summary, which proves what wrote it, and its lock.

`OUTPUT.summary.json` holds the run's settings, a fingerprint of its inputs and the writer's
last committed state (records, size, SHA-256). It is rewritten atomically after every block,
so at any instant it describes a prefix of the output that is on disk. `--resume` trusts an
output only as far as that file vouches for it. `OUTPUT.lock` keeps a second run, plain or
resumed, from writing the same output at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coherence.io.fields import InputError

from coherence.io.readers import folder_entries
from coherence.io.safe_values import json_safe
from coherence.io.writers import leftovers

__all__ = ["RunManifest", "inputs_fingerprint", "lock_path", "output_lock", "summary_path", "write_json"]

_PROBE = 1 << 16  # bytes hashed at each end of an input file

# Settings a resumed run may change: they do not change a record.
_NOT_COMPARED = frozenset({"version", "detector.embedding_cache", "detector.threads", "inputs_fingerprint"})


def summary_path(output: str | Path) -> Path:
    """Where the run's summary (and its settings, for --resume) is written."""
    output = Path(output)
    return output.with_name(output.name + ".summary.json")


def lock_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".lock")


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold `OUTPUT.lock` for the run: one writer per output at a time, whatever its mode.

    The lock is an advisory `flock`, so the kernel drops it when its process dies (a kill -9
    leaves no stale lock to clear by hand). The file is removed at the end; a run that opened
    it just before is told by the inode check and locks the new file instead.

    Raises:
        InputError: another run holds the lock, or the lock file cannot be created.
    """
    import fcntl

    path = lock_path(output)
    while True:
        try:  # never through a link: the lock file is truncated
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            why = "it is a link; remove it" if path.is_symlink() else exc.strerror or exc
            raise InputError(f"cannot write {path}: {why}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            raise InputError(
                f"another coherence run is writing {output} (it holds {path.name}); wait for it to end or choose another output"
            ) from None
        try:
            current = os.stat(path).st_ino == os.fstat(descriptor).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(descriptor)
    try:
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(descriptor)


def inputs_fingerprint(paths: Sequence[Path]) -> str:
    """A digest that changes when an input grows, shrinks or is rewritten at either end (a
    file: its size and its first and last 64 KiB; a folder: the names and sizes of its text
    files). Cheap enough to take on every run, whatever the corpus size."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.fsencode(str(path.resolve())) + b"\0")
        if path.is_dir():
            for name, file, _ in folder_entries(path):
                size = file.stat().st_size if file.is_file() else -1
                digest.update(os.fsencode(name) + f"\0{size}\0".encode())
            continue
        if not path.is_file():  # a pipe: read once, nothing to compare on a resume
            continue
        size = path.stat().st_size
        digest.update(f"{size}\0".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_PROBE))
            handle.seek(max(0, size - _PROBE))
            digest.update(handle.read(_PROBE))
    return digest.hexdigest()


class RunManifest:
    """The summary file of one output: written at the start, after every committed block,
    and at the end; read back by `--resume` to decide what of the output may be kept.

    Args:
        output: the batch output.
        settings: what a resumed run must share with this one (inputs, fields, detector).
    """

    def __init__(self, output: Path, settings: dict[str, Any]) -> None:
        self.output = output
        self.path = summary_path(output)
        self.settings = json_safe(settings)  # as written: compared with what an earlier run wrote

    def resume_from(self, resume: bool) -> dict[str, Any] | None:
        """The writer state to resume from, after proving the output is this job's; None
        for a new output (or a resume with nothing written yet).

        Raises:
            InputError: no readable summary vouches for the output, the settings or inputs
                differ from the run that wrote it.
        """
        if not resume or not leftovers(self.output):
            return None
        try:
            earlier = json.loads(self.path.read_text(encoding="utf-8"))
            state = earlier["output_state"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(
                f"cannot resume into {self.output}: no readable {self.path.name} from a `coherence batch` run vouches "
                "for it (or it was written by a version without one), so it was not touched; write a new output"
            ) from None
        before = earlier.get("settings") or {}
        _check_same_settings(self.output, self.settings, before)
        if before.get("inputs_fingerprint") != self.settings.get("inputs_fingerprint"):
            raise InputError(
                f"cannot resume into {self.output}: the inputs changed since the run that wrote it (records added, "
                "removed or rewritten); it was not touched; write a new output"
            )
        return state

    def commit(self, state: dict[str, Any]) -> None:
        """Record the writer's durable state (called after every block)."""
        write_json(self.path, {"complete": False, "settings": self.settings, "output_state": state})

    def finish(self, report: dict[str, Any], state: dict[str, Any]) -> None:
        """The final summary: the run's report with its settings and final state."""
        write_json(self.path, {**report, "settings": self.settings, "output_state": state})


def _check_same_settings(output: Path, now: dict[str, Any], before: dict[str, Any]) -> None:
    flat_now, flat_before = _flat(now), _flat(before)
    for flat in (flat_now, flat_before):  # None is torch; runs written before there was a choice have none
        if flat.get("detector.backend") is None:
            flat["detector.backend"] = "torch"
    flat_before.setdefault("detector.speed", "default")
    ignored = _NOT_COMPARED | ({"detector.backend"} if flat_now.get("detector.speed") == "fast" else set())  # no model runs
    changed = [k for k in flat_now if k not in ignored and flat_before.get(k) != flat_now[k]]
    if changed:
        raise InputError(
            f"cannot resume {output}: {', '.join(changed)} {'differs' if len(changed) == 1 else 'differ'} from the run that wrote it "
            "(resume with the same inputs and options, or write a new output)"
        )


def _flat(settings: dict[str, Any]) -> dict[str, Any]:
    """{"detector": {"threshold": 0.8}} -> {"detector.threshold": 0.8}"""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically and durably with `data` as JSON (never NaN, never a lone
    surrogate: a summary must stay readable by every JSON parser)."""
    temporary = path.with_name(path.name + ".tmp")
    if temporary.is_symlink():  # never write through a link planted beside the output
        temporary.unlink()
    text = json.dumps(json_safe(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
