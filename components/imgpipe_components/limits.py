"""Resource limits shared by ingestion and serving.

One number, so an image the pipeline would refuse to ingest is also one the
server refuses to decode: a 16-megapixel image decodes to 16 M x channels
bytes before any resize, and a small compressed file can claim far more.
"""
from __future__ import annotations

MAX_PIXELS = 4096 * 4096
