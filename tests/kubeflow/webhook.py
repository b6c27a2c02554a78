"""A webhook receiver on loopback: a real HTTP server collecting the JSON
bodies POSTed to it."""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
from typing import Iterator, List, Tuple


@contextlib.contextmanager
def receiver() -> Iterator[Tuple[str, List[dict]]]:
    """(URL, the bodies received so far)."""
    received: List[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
