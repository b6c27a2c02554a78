"""Reading a request body with a size limit and a deadline.

The deadline covers the whole body: a client that sends headers and then
stalls (or trickles a byte at a time) is answered 408 once it runs out,
rather than holding memory and a connection indefinitely.
"""
from __future__ import annotations

import asyncio

from imgpipe.serving.errors import body_timeout, body_too_large

DRAIN_LIMIT = 64 * 1024 * 1024          # read past the limit, then hang up


def _header(scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def read_body_within(scope, receive, limit: int,
                           timeout_s: float) -> bytes:
    """The whole body within `timeout_s`, or 408."""
    try:
        return await asyncio.wait_for(_read_body(scope, receive, limit),
                                      timeout_s)
    except asyncio.TimeoutError:
        raise body_timeout(timeout_s) from None


async def _read_body(scope, receive, limit: int) -> bytes:
    declared = _header(scope, b"content-length")
    size, chunks = 0, []
    too_large = declared.isdigit() and int(declared) > limit
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        too_large = too_large or size > limit
        if too_large and size > limit + DRAIN_LIMIT:
            break
        if not too_large and chunk:
            chunks.append(chunk)
    # Drained (not just refused) so the client reads a 413 rather than a
    # connection reset halfway through sending.
    if too_large:
        raise body_too_large(max(size, int(declared or 0)), limit)
    return b"".join(chunks)
