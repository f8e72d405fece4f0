"""Values any reader can produce, made writable: JSON and Arrow refuse some of what inputs hold.

A JSON escape can carry a lone surrogate ("\\udfff"), a file name can hold undecodable bytes,
a CSV or Parquet column can be a date, a decimal or binary, a float can be NaN. None of these
may stop a batch, so every value written to an output or a summary goes through here first.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

__all__ = ["arrow_safe", "json_safe", "replace_surrogates"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (same length, so offsets hold)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def json_safe(value: Any) -> Any:
    """`value` as plain JSON data, written the way a curator would expect to read it back.

    Strings lose lone surrogates; NaN and infinities become null (JSON has no such numbers);
    dates, times and datetimes become ISO 8601 strings; durations their seconds; decimals
    their exact digits as a string; bytes base64 text; tuples and sets lists; mapping keys
    strings. Anything else is written as its `str`.

    Raises:
        RecursionError: nesting deeper than Python's recursion limit (the caller turns it
            into the record's error).
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return replace_surrogates(str(value))


def arrow_safe(value: Any) -> Any:
    """`value` with lone surrogates replaced in every string it holds (keys too), all else unchanged:
    Arrow stores dates, decimals, binary and NaN natively but cannot encode a surrogate."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, dict):
        return {arrow_safe(k): arrow_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [arrow_safe(v) for v in value]
    return value
