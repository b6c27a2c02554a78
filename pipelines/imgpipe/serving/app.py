"""The REST API: TF Serving's paths and JSON on FastAPI.

Paths are matched with TF Serving's own regular expressions (from
model_servers/http_rest_api_util.cc) rather than one route per form, so
odd paths fail the way they fail there: `Malformed request: ...` (400).

    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signatures
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict    predict
    GET  /monitoring/prometheus/metrics

Predictions run in a small thread pool (TensorFlow releases the GIL), so
the event loop keeps accepting requests while models compute.

The /v1 paths are answered by a plain ASGI handler in front of FastAPI
(profiled: FastAPI's routing, Request/Response objects and anyio's thread
hand-off cost more per request than the JSON work); FastAPI keeps the
lifespan (first load before the port opens), the metrics page and errors
on other paths.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import re
import time
from typing import Dict, Optional, Tuple

from fastapi import FastAPI, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from imgpipe_components.limits import MAX_PIXELS
from imgpipe.serving import rest_json
from imgpipe.serving.body import read_body_within
from imgpipe.serving.errors import (ServingError, invalid_argument,
                                     unavailable)
from imgpipe.serving.image_limits import check_pixels
from imgpipe.serving.metrics import create_metrics
from imgpipe.serving.registry import ModelRegistry
from imgpipe.serving.served_model import version_status_entries

PREDICT_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
    r":(classify|regress|predict)", re.IGNORECASE)
STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?"
    r"(?:/(metadata))?", re.IGNORECASE)
VERSION_HEADER = "X-Model-Version"      # ours: which version answered

log = logging.getLogger("imgpipe.serve")


@dataclasses.dataclass(frozen=True)
class AppSettings:
    poll_seconds: float = 1.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_predictions_in_flight: int = 64
    # Decoded size, checked from the image header before decoding: the
    # ingestion limit, so nothing the pipeline refuses is served.
    max_pixels: int = MAX_PIXELS
    # A body not complete within this is answered 408: a client that
    # stalls mid-upload must not hold a slot (or memory) indefinitely.
    body_timeout_s: float = 30.0
    # Predictions computing at once. With one TensorFlow thread per op (the
    # server's default) a few more than the cores keep them busy; more only
    # queue inside TensorFlow.
    prediction_threads: int = 4


@dataclasses.dataclass
class _Call:
    """What the metrics need to know about one request."""
    model: str = ""
    version: str = ""
    api: str = "unknown"


Answer = Tuple[int, bytes, Dict[str, str]]
JSON_TYPE = (b"content-type", b"application/json")


def _json(payload) -> bytes:
    return json.dumps(payload).encode()


def status_json(entries) -> dict:
    """GetModelStatusResponse as TF Serving prints it (proto JSON names,
    primitive fields always printed)."""
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_status_pb2

    response = get_model_status_pb2.GetModelStatusResponse()
    for version, state in entries:
        row = response.model_version_status.add()
        row.version = version
        row.state = get_model_status_pb2.ModelVersionStatus.State.Value(state.state)
        row.status.SetInParent()
        if state.error_code != "OK":
            row.status.error_code = row.status.DESCRIPTOR.fields_by_name[
                "error_code"].enum_type.values_by_name[state.error_code].number
            row.status.error_message = state.error_message
    return json_format.MessageToDict(response,
                                     including_default_value_fields=True)


def _predict(servable, body: bytes, max_pixels: int) -> bytes:
    """Parse, run and format in a worker thread: all of it is CPU work."""
    try:
        request = rest_json.parse_predict_body(body)
        specs = servable.input_specs.get(request.signature_name)
        if specs is None:
            raise invalid_argument(f'Serving signature name: '
                                   f'"{request.signature_name}" not found in '
                                   'signature def')
        arrays = rest_json.request_arrays(request, specs)
    except RecursionError:
        # json and the array walk recurse per level: a body of a million
        # "[" is the client's error, not the server's.
        raise invalid_argument("JSON Parse error: the document is nested "
                               "too deeply; send instances as flat lists "
                               "of the signature's shape.") from None
    check_pixels(arrays, max_pixels)
    outputs = servable.predict(request.signature_name, arrays)
    return _json(rest_json.predictions_json(outputs, request.columnar))


class RestApi:
    """Request handling, with the registry, settings and metrics it needs."""

    def __init__(self, registry: ModelRegistry, settings: AppSettings):
        self.registry, self.settings = registry, settings
        self.metrics = create_metrics()
        self.predictions_in_flight = 0      # touched on the event loop only
        self._pool = concurrent.futures.ThreadPoolExecutor(
            settings.prediction_threads, thread_name_prefix="predict")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def __call__(self, scope, receive, send) -> None:
        """One /v1 request, straight on ASGI."""
        started, call = time.perf_counter(), _Call()
        self.metrics.in_flight.inc()
        try:
            status, content, headers = await self._dispatch(scope, receive,
                                                            call)
        except ServingError as error:
            status, content, headers = (error.http_status,
                                        _json({"error": error.message}), {})
        except Exception as error:  # noqa: BLE001 - a bug answers 500, the
            # server keeps serving
            log.exception("Unexpected error on %s", scope["path"])
            status, content, headers = 500, _json(
                {"error": f"Internal error: {type(error).__name__}: {error}"}), {}
        finally:
            self.metrics.in_flight.dec()
        self.metrics.observe(call.model, call.version, call.api, status,
                             time.perf_counter() - started)
        await send({"type": "http.response.start", "status": status,
                    "headers": [JSON_TYPE, (b"content-length",
                                            str(len(content)).encode()),
                                *((k.lower().encode(), v.encode())
                                  for k, v in headers.items())]})
        await send({"type": "http.response.body", "body": content})

    async def _dispatch(self, scope, receive, call: _Call) -> Answer:
        path, method = scope["path"], scope["method"]
        if method == "POST":
            match = PREDICT_PATH.fullmatch(path)
            if match:
                return await self._predict(scope, receive, call,
                                           *match.groups())
        elif method == "GET":
            match = STATUS_PATH.fullmatch(path)
            if match:
                return self._get(call, *match.groups())
        raise invalid_argument(f"Malformed request: {method} {path}")

    async def _predict(self, scope, receive, call: _Call, name: str,
                       version: Optional[str], label: Optional[str],
                       verb: str) -> Answer:
        call.api = verb.lower()
        if call.api != "predict":
            raise ServingError("UNIMPLEMENTED", f":{verb} is not served here: "
                               "the models export predict signatures only; "
                               "use :predict.")
        # Counted only once the body is here: clients still uploading (or
        # stalled) cost a coroutine, not one of the slots that make others
        # answer 503.
        body = await read_body_within(scope, receive,
                                      self.settings.max_body_bytes,
                                      self.settings.body_timeout_s)
        limit = self.settings.max_predictions_in_flight
        if self.predictions_in_flight >= limit:
            raise unavailable(f"{limit} predictions already in flight (the "
                              "server's --max-in-flight); retry shortly.")
        self.predictions_in_flight += 1
        try:
            number = int(version) if version else None
            servable = self._resolve(call, name, number, label)
            content = await asyncio.get_running_loop().run_in_executor(
                self._pool, _predict, servable, body,
                self.settings.max_pixels)
        finally:
            self.predictions_in_flight -= 1
        return 200, content, {VERSION_HEADER: str(servable.version)}

    def _resolve(self, call: _Call, name: str, version: Optional[int],
                 label: Optional[str]):
        """The servable; metrics name a model and version only once they
        exist, so unknown names in URLs cannot grow the label sets."""
        model = self.registry.model(name, version)
        call.model = name
        servable = model.resolve(version, label)
        call.version = str(servable.version)
        return servable

    def _get(self, call: _Call, name: Optional[str], version: Optional[str],
             label: Optional[str], subresource: Optional[str]) -> Answer:
        call.api = subresource.lower() if subresource else "status"
        if not name:
            raise invalid_argument("Missing model name in request.")
        number = int(version) if version else None
        if subresource:
            servable = self._resolve(call, name, number, label)
            return (200, _json(servable.metadata_json()),
                    {VERSION_HEADER: str(servable.version)})
        model = self.registry.model_for_status(name)
        call.model = name
        if label is not None:
            # TF Serving answers a labelled status with every version; the
            # labelled one is what a caller asking by label wants.
            number = model.resolve(label=label).version
        entries = version_status_entries(model, number)
        call.version = str(number) if number is not None else ""
        return 200, _json(status_json(entries)), {}

    def ready(self) -> Response:
        """Readiness: 200 only when every model can answer predictions.
        TF Serving's status path answers 200 while a version is LOADING or
        after it was refused, so it cannot tell a probe that."""
        why_not = self.registry.readiness()
        if why_not:
            return Response(_json({"error": f"Not ready: {why_not}"}), 503,
                            media_type="application/json")
        return Response(_json({"ready": True}), media_type="application/json")

    @staticmethod
    def live() -> Response:
        """Liveness: the event loop answers. Not tied to any model, so a
        slow load never gets the process restarted."""
        return Response(_json({"live": True}), media_type="application/json")

    def metrics_page(self) -> Response:
        for name in self.registry.names():
            states = self.registry.model_for_status(name).states().values()
            self.metrics.versions_available.labels(name).set(
                sum(s.state == "AVAILABLE" for s in states))
            self.metrics.versions_refused.labels(name).set(
                sum(s.state == "END" and s.error_code != "OK" for s in states))
        return Response(self.metrics.render(),
                        media_type=self.metrics.content_type)


def create_app(registry: ModelRegistry, settings: AppSettings):
    """An ASGI app: /v1/... (matched case-insensitively, as TF Serving
    does) goes to the REST handler, everything else to FastAPI."""
    api = RestApi(registry, settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        # The port opens only after the first load, as TF Serving's does.
        await run_in_threadpool(registry.start, settings.poll_seconds)
        yield
        registry.stop()
        api.close()

    app = FastAPI(title="imgpipe model server (TF Serving REST API)",
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.api = api
    app.add_api_route("/monitoring/prometheus/metrics", api.metrics_page,
                      methods=["GET"])
    app.add_api_route("/healthz/ready", api.ready, methods=["GET"])
    app.add_api_route("/healthz/live", api.live, methods=["GET"])

    @app.exception_handler(StarletteHTTPException)
    async def as_tf_serving_error(_request, error: StarletteHTTPException):
        return Response(_json({"error": str(error.detail)}), error.status_code,
                        media_type="application/json")

    async def serve(scope, receive, send) -> None:
        path = scope.get("path", "")[:4].lower()
        if scope["type"] == "http" and path in ("/v1/", "/v1"):
            await api(scope, receive, send)
        else:
            await app(scope, receive, send)
    serve.state = app.state
    return serve
