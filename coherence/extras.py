"""Optional dependencies: import one, or fail with the single line that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["install_hint", "require"]


def install_hint(extra: str) -> str:
    """The pip command that installs one of the package's extras."""
    return f'pip install "coherence[{extra}]"'


def require(module: str, extra: str, what: str) -> ModuleType:
    """`module`, imported; else ImportError naming `what` needs it and the extra to install.

    The underlying error is kept in the message: a broken install of a dependency (a moved
    submodule, a missing system library) reads like a missing one otherwise.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{what} needs {module.split('.')[0]} ({error}): {install_hint(extra)}") from None
