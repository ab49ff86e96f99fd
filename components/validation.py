"""Collect every problem in a spec, then report them all at once.

Every component validates its args with one function that returns a :class:`Problems`
(a list of :class:`Problem`), used both by the component's constructor and by the stack
loader, so a catalog with several mistakes is reported in one error, before anything is
registered. Values that are not known yet (``pulumi.Output``) are skipped by every check.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

__all__ = [
    "CatalogError",
    "Problem",
    "Problems",
    "is_unknown",
    "join_path",
]


def is_unknown(value: Any) -> bool:
    """True for values only known at deployment time (Outputs), which validation skips."""
    return isinstance(value, pulumi.Output)


def join_path(*parts: str | int) -> str:
    """``join_path("services", "orders", "memory") -> "services.orders.memory"``; ints become ``[i]``."""
    out = ""
    for part in parts:
        if part == "" or part is None:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else str(part)
    return out


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    return repr(value)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what was given, what is allowed."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class CatalogError(ValueError):
    """Raised with every problem found, before any resource is registered."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the configuration:\n{lines}")


class Problems(list):
    """A list of :class:`Problem` with the checks shared by every component.

    Each ``check_*`` method records a problem and returns False when the value is wrong,
    True when it is right, missing (unless ``required``) or not known yet.
    """

    def add(self, path: str, message: str) -> None:
        self.append(Problem(path, message))

    def extend_from(self, other: Iterable[Problem]) -> None:
        self.extend(other)

    def raise_if_any(self) -> None:
        if self:
            raise CatalogError(self)

    # -- presence and shape ---------------------------------------------------------------
    def require(self, spec: Mapping[str, Any], key: str, path: str, allowed: str) -> bool:
        if spec.get(key) is None:
            self.add(join_path(path, key), f"is required ({allowed})")
            return False
        return True

    def check_mapping(self, value: Any, path: str) -> bool:
        if value is None or is_unknown(value):
            return True
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, got {type(value).__name__} {_show(value)}")
            return False
        return True

    def check_list(self, value: Any, path: str) -> bool:
        if value is None or is_unknown(value):
            return True
        if not isinstance(value, (list, tuple)):
            self.add(path, f"must be a list, got {type(value).__name__} {_show(value)}")
            return False
        return True

    def check_known_keys(self, spec: Any, allowed: Iterable[str], path: str) -> bool:
        """Unknown keys are errors, with a 'did you mean' hint when one is close."""
        if not isinstance(spec, Mapping):
            return True
        allowed = sorted(set(allowed))
        ok = True
        for key in spec:
            if key in allowed:
                continue
            ok = False
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.add(join_path(path, str(key)), f"unknown key{hint} (allowed: {', '.join(allowed)})")
        return ok

    def check_exactly_one(self, spec: Mapping[str, Any], keys: Iterable[str], path: str) -> str | None:
        keys = list(keys)
        present = [k for k in keys if spec.get(k) is not None]
        if len(present) != 1:
            given = ", ".join(present) if present else "none"
            self.add(path, f"needs exactly one of {', '.join(keys)} (given: {given})")
            return None
        return present[0]

    # -- scalars --------------------------------------------------------------------------
    def check_int(self, value: Any, path: str, lo: int | None = None, hi: int | None = None,
                  unit: str = "") -> bool:
        """An integer within [lo, hi] inclusive."""
        if value is None or is_unknown(value):
            return True
        suffix = f" {unit}" if unit else ""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            self.add(path, f"must be a whole number{_range_text(lo, hi, suffix)}, got {_show(value)}")
            return False
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.add(path, f"must be{_range_text(lo, hi, suffix)}, got {_show(int(value))}")
            return False
        return True

    def check_number(self, value: Any, path: str, lo: float | None = None, hi: float | None = None,
                     unit: str = "") -> bool:
        if value is None or is_unknown(value):
            return True
        suffix = f" {unit}" if unit else ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, f"must be a number{_range_text(lo, hi, suffix)}, got {_show(value)}")
            return False
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.add(path, f"must be{_range_text(lo, hi, suffix)}, got {_show(value)}")
            return False
        return True

    def check_bool(self, value: Any, path: str) -> bool:
        if value is None or is_unknown(value):
            return True
        if not isinstance(value, bool):
            self.add(path, f"must be true or false, got {_show(value)}")
            return False
        return True

    def check_str(self, value: Any, path: str, pattern: str | None = None, allowed: str = "",
                  max_len: int | None = None) -> bool:
        if value is None or is_unknown(value):
            return True
        if not isinstance(value, str):
            self.add(path, f"must be a string{f' ({allowed})' if allowed else ''}, got {_show(value)}")
            return False
        if max_len is not None and len(value) > max_len:
            self.add(path, f"must be at most {max_len} characters, got {len(value)} ({_show(value[:40])}…)")
            return False
        if pattern is not None and not re.fullmatch(pattern, value):
            self.add(path, f"must be {allowed or f'a string matching {pattern}'}, got {_show(value)}")
            return False
        return True

    def check_enum(self, value: Any, path: str, allowed: Iterable[Any]) -> bool:
        if value is None or is_unknown(value):
            return True
        allowed = list(allowed)
        if value not in allowed:
            close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
            hint = f"; did you mean {_show(close[0])}?" if close else ""
            self.add(path, f"must be one of {', '.join(_show(a) for a in allowed)}, got {_show(value)}{hint}")
            return False
        return True

    def check_str_map(self, value: Any, path: str) -> bool:
        """A mapping of string keys to string (or number/bool, rendered as text) values."""
        if value is None or is_unknown(value):
            return True
        if not self.check_mapping(value, path):
            return False
        ok = True
        for k, v in value.items():
            if not isinstance(k, str) or not (isinstance(v, (str, int, float, bool)) or is_unknown(v)):
                self.add(join_path(path, str(k)), f"must be a string value, got {_show(v)}")
                ok = False
        return ok


def _range_text(lo: float | None, hi: float | None, suffix: str) -> str:
    if lo is not None and hi is not None:
        return f" between {lo} and {hi}{suffix} inclusive"
    if lo is not None:
        return f" at least {lo}{suffix}"
    if hi is not None:
        return f" at most {hi}{suffix}"
    return ""
