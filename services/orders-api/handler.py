"""HTTP API sample: reads and creates orders (API Gateway HTTP API, payload format 2.0)."""

import json
import os
import uuid


def _response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event, context):
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    params = event.get("pathParameters") or {}
    if method == "OPTIONS":
        # A browser's CORS preflight that an OPTIONS route sends here (see the README's "Browsers and CORS"):
        # answer it empty; API Gateway adds the CORS headers it is configured with.
        return {"statusCode": 204, "body": ""}
    if method == "GET" and "id" in params:
        return _response(200, {"id": params["id"], "status": "pending", "stage": os.environ.get("STAGE", "dev")})
    if method == "POST":
        try:
            order = json.loads(event.get("body") or "{}")
        except ValueError:
            return _response(400, {"error": "body must be JSON"})
        if not isinstance(order, dict) or not order.get("items"):
            return _response(400, {"error": "an order needs items"})
        return _response(201, {"id": str(uuid.uuid4()), "items": order["items"], "status": "pending"})
    return _response(404, {"error": f"no route for {method}"})
