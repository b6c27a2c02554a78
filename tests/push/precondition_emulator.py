"""gcp-storage-emulator with GCS's generation preconditions enforced.

gcp-storage-emulator (2026.7) accepts `ifGenerationMatch` and
`ifGenerationNotMatch` and ignores them, so a test of concurrent writers
against it would pass whatever the code did. This runs the same emulator
with one addition: before an upload, copy/rewrite (checked on the
destination), delete, download or metadata read, the precondition is
checked against the object's current generation (0: the object does not
exist) and, as GCS documents, a failed one answers 412 and changes nothing.
The emulator serves one request at a time, so the check and the write
cannot interleave with another request. Everything else is the emulator's
own code; the client's requests are the real ones.

    python -m tests.push.precondition_emulator start --host 127.0.0.1 \
        --port 9023 --in-memory
"""
from __future__ import annotations

import sys
from http import HTTPStatus

from gcp_storage_emulator import server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

CONDITION_NOT_MET = {"error": {
    "code": 412, "message": "At least one of the pre-conditions you "
                            "specified did not hold.",
    "errors": [{"domain": "global", "reason": "conditionNotMet",
                "message": "Precondition Failed"}]}}


def _generation(storage, bucket: str, name: str) -> int:
    try:
        return int(storage.get_file_obj(bucket, name).get("generation") or 0)
    except NotFound:
        return 0


def _target(request, kind: str):
    """(bucket, object) the precondition is about."""
    params = request.params
    if kind in ("copy", "rewrite"):
        return params["dest_bucket_name"], params["dest_object_id"]
    if kind == "insert":
        name = (request.query.get("name") or [None])[0]
        data = request.data
        if name is None and isinstance(data, dict):
            name = (data.get("meta") or {}).get("name") or data.get("name")
        return params["bucket_name"], name
    return params["bucket_name"], params["object_id"]


def _guarded(handler, kind: str):
    def guarded(request, response, storage, *args, **kwargs):
        match = request.query.get("ifGenerationMatch")
        not_match = request.query.get("ifGenerationNotMatch")
        if (match or not_match) and "upload_id" not in request.query:
            bucket, name = _target(request, kind)
            current = _generation(storage, bucket, name) if name else None
            if current is not None and (
                    (match and int(match[0]) != current)
                    or (not_match and int(not_match[0]) == current)):
                response.status = HTTPStatus.PRECONDITION_FAILED
                response.json(CONDITION_NOT_MET)
                return None
        return handler(request, response, storage, *args, **kwargs)
    return guarded


def install() -> None:
    kinds = {objects.insert: "insert", objects.copy: "copy",
             objects.rewrite: "rewrite", objects.delete: "delete",
             objects.download: "download", objects.get: "get"}
    wrapped = {handler: _guarded(handler, kind)
               for handler, kind in kinds.items()}
    for _pattern, handlers in server.HANDLERS:
        for method, handler in list(handlers.items()):
            if handler in wrapped:
                handlers[method] = wrapped[handler]
    # The server falls back to `objects.insert` for uploads posted to .../o.
    objects.insert = wrapped[objects.insert]


if __name__ == "__main__":
    install()
    from gcp_storage_emulator.__main__ import main
    main(sys.argv[1:])
