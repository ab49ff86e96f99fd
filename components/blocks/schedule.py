"""EventBridge schedule expressions (``rate(...)`` and ``cron(...)``), validated before anything is planned:
one rule for every pattern that runs on a schedule (a ``lambda`` schedule trigger, an ``ecs`` scheduled task).

EventBridge rules accept a six-field cron (minutes hours day-of-month month day-of-week year) in UTC,
and a rate of whole minutes, hours or days. The common cron libraries speak the five-field Unix dialect
(without ``?``, ``L``, ``W`` or ``#``). EventBridge-specific ones exist on PyPI (``aws-cron-expression-validator``,
``pyawscron``) but are not dependencies of this project; this check names the field and the rule that failed.
"""

from __future__ import annotations

import re
from typing import Any

from ..validation import Problems

__all__ = ["SCHEDULE_EXAMPLES", "check_schedule", "schedule_expression_error"]

#: What a valid schedule looks like, shown in every schedule problem.
SCHEDULE_EXAMPLES = "an EventBridge schedule such as rate(5 minutes) or cron(0 3 * * ? *)"

_RATE = re.compile(r"rate\((?P<value>\S+)\s+(?P<unit>\S+)\)")
_CRON = re.compile(r"cron\((?P<body>.*)\)")
_RATE_UNITS = {"minute": "minutes", "hour": "hours", "day": "days"}

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}

# (name, lowest, highest, names allowed in place of numbers)
_FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)


def check_schedule(expression: Any, path: str, problems: Problems) -> bool:
    """Add the problem at ``path`` when ``expression`` is not a valid EventBridge schedule; True when it is
    (or is None, or not known until deployment)."""
    if not problems.check_str(expression, path, allowed=SCHEDULE_EXAMPLES) or not isinstance(expression, str):
        return False
    error = schedule_expression_error(expression)
    if error:
        problems.add(path, f"{error} ({SCHEDULE_EXAMPLES}), got {expression!r}")
        return False
    return True


def schedule_expression_error(expression: str) -> str | None:
    """Why ``expression`` is not a valid EventBridge schedule, or None when it is."""
    expression = expression.strip()
    if expression.startswith("rate("):
        return _rate_error(expression)
    if expression.startswith("cron("):
        return _cron_error(expression)
    return "must be rate(VALUE UNIT) or cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)"


def _rate_error(expression: str) -> str | None:
    match = _RATE.fullmatch(expression)
    if not match:
        return "a rate is rate(VALUE UNIT), e.g. rate(5 minutes)"
    value, unit = match["value"], match["unit"]
    if not value.isdigit() or int(value) < 1:
        return f"the rate value must be a positive whole number, got {value!r}"
    singular = {v: k for k, v in _RATE_UNITS.items()}
    if unit not in _RATE_UNITS and unit not in singular:
        return f"the rate unit must be minute(s), hour(s) or day(s), got {unit!r}"
    # EventBridge rejects "rate(1 minutes)" and "rate(5 minute)".
    if int(value) == 1 and unit not in _RATE_UNITS:
        return f"a rate of 1 takes a singular unit ({singular[unit]}), got {unit!r}"
    if int(value) > 1 and unit in _RATE_UNITS:
        return f"a rate above 1 takes a plural unit ({_RATE_UNITS[unit]}), got {unit!r}"
    return None


def _cron_error(expression: str) -> str | None:
    match = _CRON.fullmatch(expression)
    if not match:
        return "a cron is cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)"
    fields = match["body"].split()
    if len(fields) != 6:
        return (f"a cron has six fields (minutes hours day-of-month month day-of-week year), "
                f"got {len(fields)}: {match['body']!r}")
    for (name, lo, hi, names), value in zip(_FIELDS, fields):
        error = _field_error(name, value, lo, hi, names)
        if error:
            return error
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return (f"exactly one of day-of-month ({dom!r}) and day-of-week ({dow!r}) must be '?': "
                "EventBridge cannot match both")
    return None


def _number(token: str, lo: int, hi: int, names: dict[str, int], name: str) -> tuple[int | None, str | None]:
    value = names.get(token.upper()) if names else None
    if value is None:
        if not token.isdigit():
            extra = f" or {'-'.join([next(iter(names)), list(names)[-1]])}" if names else ""
            return None, f"{name}: {token!r} is not a number {lo}-{hi}{extra}"
        value = int(token)
    if not lo <= value <= hi:
        return None, f"{name}: {token!r} is outside {lo}-{hi}"
    return value, None


def _field_error(name: str, value: str, lo: int, hi: int, names: dict[str, int]) -> str | None:
    if value == "?":
        return None if name in ("day-of-month", "day-of-week") else f"{name}: '?' is only allowed in day-of-month or day-of-week"
    if value == "*":
        return None
    if name == "day-of-month" and value in ("L", "LW"):
        return None
    if name == "day-of-month" and value.endswith("W"):
        return _number(value[:-1], lo, hi, names, name)[1]
    if name == "day-of-week":
        if value.endswith("L") and value != "L":
            return _number(value[:-1], lo, hi, names, name)[1]
        if value == "L":
            return None
        if "#" in value:
            day, _, nth = value.partition("#")
            error = _number(day, lo, hi, names, name)[1]
            if error:
                return error
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                return f"{name}: the occurrence in {value!r} must be 1-5"
            return None
    for part in value.split(","):
        base, slash, step = part.partition("/")
        if slash:
            if not step.isdigit() or int(step) < 1:
                return f"{name}: the increment in {part!r} must be a positive whole number"
            if name == "day-of-week":
                return f"{name}: increments ('/') are not allowed in day-of-week"
        if base == "*" and slash:
            continue
        if base in ("*", "?", "L", "W") or not base:
            return f"{name}: {part!r} is not allowed in a list or range"
        start, dash, end = base.partition("-")
        error = _number(start, lo, hi, names, name)[1] or (_number(end, lo, hi, names, name)[1] if dash else None)
        if error:
            return error
    return None
