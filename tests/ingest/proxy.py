"""A loopback TCP proxy that cuts its first connections mid-response.

It stands between the storage client and the emulator: for the first `drop`
connections it forwards the request, passes on the response headers and a
few body bytes, then closes both sockets - a connection lost mid-listing.
Later connections are forwarded, each request after `delay_s` (a stand-in
for a real bucket's round trip, for benchmarks). With `status` set, the
first `drop` connections are answered with that HTTP status instead (503,
429: what a busy bucket says); with `stall_s`, they get no answer for that
long (a request that times out).
"""
from __future__ import annotations

import socket
import threading
import time

BODY_BYTES = 5   # of the response body passed on before the cut


class DroppingProxy:
    def __init__(self, upstream_port: int, drop: int, delay_s: float = 0.0,
                 status: int = 0, stall_s: float = 0.0):
        self.upstream_port, self.drop = upstream_port, drop
        self.delay_s, self.status, self.stall_s = delay_s, status, stall_s
        self.connections = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.connections += 1
                cut = self.connections <= self.drop
            threading.Thread(target=self._serve, args=(client, cut),
                             daemon=True).start()

    def _serve(self, client: socket.socket, cut: bool) -> None:
        if cut and (self.status or self.stall_s):
            self._refuse(client)
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        if cut:
            self._cut_mid_response(client, upstream)
            return
        threading.Thread(target=_pump, args=(upstream, client),
                         daemon=True).start()
        _pump(client, upstream, self.delay_s)

    def _refuse(self, client: socket.socket) -> None:
        _read_head(client)
        time.sleep(self.stall_s)
        if self.status:
            client.sendall(f"HTTP/1.1 {self.status} Injected\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: 2\r\nConnection: close\r\n"
                           "\r\n{}".encode())
        client.close()

    @staticmethod
    def _cut_mid_response(client: socket.socket,
                          upstream: socket.socket) -> None:
        upstream.sendall(_read_head(client))
        response = b""
        while b"\r\n\r\n" not in response or \
                len(response) < response.find(b"\r\n\r\n") + 4 + BODY_BYTES:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            response += chunk
        header_end = response.find(b"\r\n\r\n") + 4
        client.sendall(response[:header_end + BODY_BYTES])
        for sock in (client, upstream):
            sock.close()


def _read_head(client: socket.socket) -> bytes:
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = client.recv(65536)
        if not chunk:
            break
        request += chunk
    return request


def _pump(source: socket.socket, target: socket.socket,
          delay_s: float = 0.0) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            time.sleep(delay_s)
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
