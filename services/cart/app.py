"""A tiny HTTP service: ``GET /health`` for probes, ``GET /`` says who answered.

``python app.py job`` runs once and exits instead (the scheduled-task shape).
"""

import json
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("SERVICE_NAME", "cart")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/health":
            body = {"status": "ok"}
        else:
            body = {"service": SERVICE, "host": socket.gethostname(), "path": self.path}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stdout.write(json.dumps({"service": SERVICE, "request": fmt % args}) + "\n")
        sys.stdout.flush()


def main() -> None:
    if sys.argv[1:] == ["job"]:
        print(json.dumps({"service": SERVICE, "job": "done"}))
        return
    port = int(os.environ.get("PORT", "8080"))
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
