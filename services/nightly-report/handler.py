"""Scheduled sample: builds the nightly report summary for the period in the EventBridge input."""

import datetime
import json


def handler(event, context):
    period = event.get("period", "daily") if isinstance(event, dict) else "daily"
    now = datetime.datetime.now(datetime.timezone.utc)
    days = {"daily": 1, "weekly": 7}.get(period, 1)
    report = {"period": period, "from": (now - datetime.timedelta(days=days)).date().isoformat(),
              "to": now.date().isoformat()}
    print(json.dumps(report))
    return report
