"""S3 sample: records which uploaded images need a thumbnail (the S3 event notification format)."""

import json
import logging
import urllib.parse

log = logging.getLogger()
log.setLevel(logging.INFO)


def handler(event, context):
    keys = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        keys.append(f"s3://{bucket}/{key}")
        log.info(json.dumps({"action": "thumbnail", "source": keys[-1], "size": record["s3"]["object"].get("size")}))
    return {"processed": keys}
