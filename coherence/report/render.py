"""Pages from templates (jinja2) and figures into them: inline SVG or PNG, deterministically.

Figures are saved with no date and with fixed element ids, so the same input gives the same
bytes. Nothing rendered here refers to a file or address outside the page.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from coherence.extras import require

__all__ = ["FigureFormat", "axes_for", "figure_bytes", "inline_svg", "render_page", "save_figure"]

FigureFormat = Literal["svg", "png"]
_SVG_START = re.compile(r"<svg\b")
_SVG_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SVG_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_DPI = 150


def axes_for(ax: Any, size: tuple[float, float]) -> Any:
    """`ax`, or the axes of a new figure of `size` inches (made without pyplot: no global
    state, no window)."""
    if ax is not None:
        return ax
    figures = require("matplotlib.figure", "report", "a report's figures")  # from Python too, the extra named

    return figures.Figure(figsize=size, layout="constrained").add_subplot()


def figure_bytes(figure: Any, fmt: FigureFormat, salt: str = "coherence") -> bytes:
    """The figure as SVG (text kept as text) or PNG bytes, the same for the same figure."""
    import matplotlib

    if figure.get_layout_engine() is not None:  # lay out once and keep it: every save then draws the same
        figure.draw_without_rendering()
        figure.set_layout_engine("none")
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(buffer, format=fmt, dpi=_DPI, bbox_inches="tight", metadata=metadata)
    return buffer.getvalue()


def inline_svg(figure: Any, salt: str, label: str) -> str:
    """The figure as an <svg> element to place in a page (no XML prolog, DOCTYPE, namespace
    declarations or metadata), with `label` as its accessible name. `salt` keeps element ids apart between figures of a page."""
    from markupsafe import Markup, escape

    text = figure_bytes(figure, "svg", salt).decode("utf-8")
    text = text[_SVG_START.search(text).start() :]  # type: ignore[union-attr]
    # Inside HTML the namespaces are implied and the RDF metadata says nothing to a reader:
    # dropping them leaves no address of any kind in the page.
    text = _SVG_METADATA.sub("", _SVG_NAMESPACES.sub("", text))
    text = text.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(text)


def save_figure(figure: Any, path: str | Path) -> Path:
    """Write the figure to `path` as .png or .svg (by its suffix)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"a figure is written as .png or .svg, not {path.name}")
    path.write_bytes(figure_bytes(figure, fmt))  # type: ignore[arg-type]
    return path


@lru_cache(maxsize=1)
def _environment() -> Any:
    jinja2 = require("jinja2", "report", "a report's pages")

    return jinja2.Environment(
        loader=jinja2.PackageLoader("coherence.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_page(template: str, **context: Any) -> str:
    """Render one of the package's page templates with `context`."""
    return _environment().get_template(template).render(**context)
