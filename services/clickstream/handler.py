"""Kinesis sample: counts click events per page and reports records it cannot parse as batch item
failures, so only those are retried (ReportBatchItemFailures)."""

import base64
import json
from collections import Counter


def handler(event, context):
    pages = Counter()
    failures = []
    for record in event.get("Records", []):
        try:
            click = json.loads(base64.b64decode(record["kinesis"]["data"]))
            pages[click["page"]] += 1
        except (ValueError, KeyError, TypeError):
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
    print(json.dumps({"pages": dict(pages)}))
    return {"batchItemFailures": failures}
