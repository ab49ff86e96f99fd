"""EventBridge schedule expressions: rate(...) and six-field cron(...)."""

import pytest

from components.blocks.schedule import schedule_expression_error


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
    "cron(0 3 * * ? *)", "cron(0/15 * * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)",
    "cron(15 10 ? * 6L 2026-2030)", "cron(0 12 L * ? *)", "cron(0 9 15W * ? *)", "cron(0 9 ? * 2#1 *)",
    "cron(5,35 14 * JAN,JUL ? *)", "cron(* * ? * * *)", "cron(0 0 LW * ? *)",
])
def test_accepts_valid_eventbridge_schedules(expression):
    assert schedule_expression_error(expression) is None


@pytest.mark.parametrize("expression, fragment", [
    ("every 5 minutes", "must be rate(VALUE UNIT) or cron("),
    ("rate(5)", "rate(VALUE UNIT)"),
    ("rate(0 minutes)", "positive whole number"),
    ("rate(1.5 hours)", "positive whole number"),
    ("rate(30 seconds)", "minute(s), hour(s) or day(s)"),
    ("rate(1 minutes)", "a rate of 1 takes a singular unit (minute)"),
    ("rate(5 minute)", "a rate above 1 takes a plural unit (minutes)"),
    ("cron(0 3 * * ?)", "six fields"),
    ("cron(0 3 * * * ? *)", "six fields"),
    ("cron(0 3 * * * *)", "exactly one of day-of-month"),
    ("cron(0 3 ? * ? *)", "exactly one of day-of-month"),
    ("cron(0 3 1 * MON *)", "exactly one of day-of-month"),
    ("cron(60 3 * * ? *)", "minutes: '60' is outside 0-59"),
    ("cron(0 24 * * ? *)", "hours: '24' is outside 0-23"),
    ("cron(0 3 32 * ? *)", "day-of-month: '32' is outside 1-31"),
    ("cron(0 3 * 13 ? *)", "month: '13' is outside 1-12"),
    ("cron(0 3 * FOO ? *)", "month: 'FOO' is not a number"),
    ("cron(0 3 ? * 8 *)", "day-of-week: '8' is outside 1-7"),
    ("cron(0 3 ? * MON#6 *)", "occurrence"),
    ("cron(0 3 ? * MON/2 *)", "increments"),
    ("cron(0 3 * * ? 1969)", "year: '1969' is outside 1970-2199"),
    ("cron(? 3 * * ? *)", "'?' is only allowed in day-of-month or day-of-week"),
    ("cron(0/0 * * * ? *)", "increment"),
    ("cron(a b c d e f)", "minutes: 'a' is not a number"),
])
def test_rejects_invalid_schedule_with_reason(expression, fragment):
    error = schedule_expression_error(expression)
    assert error is not None and fragment in error, error


CRON_CORPUS = [
    "0 3 * * ? *", "0/5 * * * ? *", "0 3 * * * *", "0 3 ? * * *", "0 3 1 * MON *", "0 18 ? * MON-FRI *",
    "0 10 L * ? *", "0 10 ? * 6L *", "0 10 ? * MON#1 *", "0 10 15W * ? *", "60 3 * * ? *", "0 3 * *",
    "0 3 32 * ? *", "0 3 ? * 8 *", "0 3 ? * SUN-SAT 2200", "*/1 * * * ? *", "0 3 ? JAN-MAR MON *",
    "15 10 ? * 6L 2026-2030", "0 8 1,15 * ? *", "5-10 * * * ? *", "0 0 ? * 2#5 *", "0 25 * * ? *",
    "0 0 0 * ? *", "0 0 ? 13 * *", "0 0 ? * MON,WED,FRI *", "0 12 * JAN,FEB ? *", "a b c d e f",
]


@pytest.mark.parametrize("expression", CRON_CORPUS)
def test_cron_checks_agree_with_the_maintained_eventbridge_validator(expression):
    """Our validator (clearer messages, no runtime dependency) accepts exactly what
    aws-cron-expression-validator accepts, used here as an independent oracle."""
    from aws_cron_expression_validator.validator import AWSCronExpressionValidator
    try:
        AWSCronExpressionValidator.validate(expression)
        oracle_ok = True
    except ValueError:
        oracle_ok = False
    assert (schedule_expression_error(f"cron({expression})") is None) == oracle_ok
