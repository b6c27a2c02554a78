"""A recorder of KFP v2beta1 REST calls, for contract tests of our client code.

It is not a Kubeflow Pipelines server: it stores each request the real
`kfp.Client` sends and answers with the smallest v2beta1 JSON bodies the
client needs to carry on (ids for what it creates, lists of what exists). The
tests then check the requests against the v2beta1 API: paths, query
parameters, headers and bodies.

What it keeps of the real server's rules, because our client depends on
them: healthz reports `tag_name` (the release) and `multi_user`, as the API
server's handler writes them (backend/src/apiserver/main.go); in multi-user
mode pipelines belong to the namespace they were uploaded to and a listing
shows one namespace only (no `namespace` query: the shared ones); a second
pipeline of the same name in a namespace is refused (409), as KFP does;
recurring runs can be listed (by experiment and display name) and deleted.
`state.failing` makes chosen routes answer 500, as a failing server does.
"""
from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

API = "/apis/v2beta1"


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]     # names in lower case
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    def uploaded_file(self) -> bytes:
        """The `uploadfile` part of a multipart/form-data upload."""
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["content-type"].encode()
            + b"\r\n\r\n" + self.body)
        for part in message.iter_parts():
            if part.get_param("name", header="content-disposition") == \
                    "uploadfile":
                return part.get_payload(decode=True)
        raise AssertionError("no uploadfile part in the upload")


class Conflict(Exception):
    """Answered as HTTP 409, like KFP's AlreadyExists."""


class _State:
    """Just enough memory for the client's create-then-look-up flows."""

    def __init__(self, tag_name: str, multi_user: bool):
        self.tag_name, self.multi_user = tag_name, multi_user
        self.requests: List[Request] = []
        self.experiments: List[dict] = []
        self.pipelines: List[dict] = []
        self.versions: Dict[str, List[dict]] = {}
        self.recurring_runs: List[dict] = []
        self._recurring_count = 0
        # (method, path under /apis/v2beta1) answered with HTTP 500.
        self.failing: set = set()

    def answer(self, request: Request) -> dict:
        route = (request.method, request.path)
        if route == ("GET", f"{API}/healthz"):
            return {"commit_sha": "0123abc", "tag_name": self.tag_name,
                    "multi_user": self.multi_user}
        if route == ("GET", f"{API}/experiments"):
            return self._listing("experiments", self.experiments, request)
        if route == ("POST", f"{API}/experiments"):
            experiment = {**request.json(),
                          "experiment_id": f"exp-{len(self.experiments) + 1}"}
            self.experiments.append(experiment)
            return experiment
        if route == ("GET", f"{API}/pipelines"):
            namespace = request.query.get("namespace", [""])[0]
            return self._listing("pipelines", [
                p for p in self.pipelines if not self.multi_user
                or p["namespace"] == namespace], request)
        if route == ("POST", f"{API}/pipelines/upload"):
            return self._new_pipeline(
                request.query["name"][0],
                request.query.get("namespace", [""])[0])
        if route == ("POST", f"{API}/pipelines/upload_version"):
            return self._new_version(request.query["pipelineid"][0],
                                     request.query["name"][0])
        if request.method == "GET" and request.path.endswith("/versions"):
            pipeline_id = request.path.split("/")[-2]
            return self._listing("pipeline_versions",
                                 self.versions.get(pipeline_id, []), request)
        if route == ("POST", f"{API}/runs"):
            return {**request.json(), "run_id": "run-1", "state": "PENDING"}
        if route == ("POST", f"{API}/recurringruns"):
            self._recurring_count += 1
            recurring = {**request.json(), "status": "ENABLED",
                         "recurring_run_id":
                             f"recurring-{self._recurring_count}"}
            self.recurring_runs.append(recurring)
            return recurring
        if route == ("GET", f"{API}/recurringruns"):
            experiment = request.query.get("experiment_id", [None])[0]
            return self._listing("recurringRuns", [
                r for r in self.recurring_runs
                if experiment in (None, r["experiment_id"])], request)
        if request.method == "DELETE" and request.path.startswith(
                f"{API}/recurringruns/"):
            wanted = request.path.rsplit("/", 1)[1]
            before = len(self.recurring_runs)
            self.recurring_runs = [r for r in self.recurring_runs
                                   if r["recurring_run_id"] != wanted]
            if len(self.recurring_runs) == before:
                raise LookupError(f"no recurring run {wanted}")
            return {}
        raise LookupError(f"no v2beta1 route {request.method} {request.path}")

    def _new_pipeline(self, name: str, namespace: str) -> dict:
        if any(p["display_name"] == name and p["namespace"] == namespace
               for p in self.pipelines):
            raise Conflict(f"Failed to create a pipeline due to conflict: "
                           f"pipeline named {name} already exists in "
                           f"namespace {namespace!r}")
        pipeline = {"pipeline_id": f"pipeline-{len(self.pipelines) + 1}",
                    "display_name": name, "namespace": namespace}
        self.pipelines.append(pipeline)
        self._new_version(pipeline["pipeline_id"], name)
        return pipeline

    def _new_version(self, pipeline_id: str, name: str) -> dict:
        versions = self.versions.setdefault(pipeline_id, [])
        version = {"pipeline_id": pipeline_id, "display_name": name,
                   "pipeline_version_id": f"{pipeline_id}-v{len(versions) + 1}"}
        versions.append(version)
        return version

    @staticmethod
    def _listing(key: str, items: List[dict], request: Request) -> dict:
        wanted = _filter_name(request)
        found = [i for i in items if wanted in (None, i["display_name"])]
        return {key: found, "total_size": len(found)} if found else {}


def _filter_name(request: Request) -> Optional[str]:
    """The display_name an EQUALS filter asks for, if any."""
    if "filter" not in request.query:
        return None
    for predicate in json.loads(request.query["filter"][0])["predicates"]:
        if predicate["key"] in ("display_name", "name"):
            return predicate.get("stringValue", predicate.get("string_value"))
    return None


class KfpApiRecorder:
    """Serves on 127.0.0.1 (a free port) inside a `with` block;
    `refuse_with=401` answers every request with that status instead;
    `tag_name` is the backend release healthz reports."""

    def __init__(self, refuse_with: Optional[int] = None,
                 tag_name: str = "2.16.0", multi_user: bool = False):
        self.state = _State(tag_name, multi_user)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command, url.path, parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length))
                state.requests.append(request)
                try:
                    if (request.method, request.path[len(API):]) in \
                            state.failing:
                        raise RuntimeError("internal error (test)")
                    status, body = 200, state.answer(request)
                except LookupError as error:
                    status, body = 404, {"error": str(error)}
                except Conflict as error:
                    status, body = 409, {"error": str(error), "code": 6}
                except RuntimeError as error:
                    status, body = 500, {"error": str(error), "code": 13}
                if refuse_with:
                    status, body = refuse_with, {
                        "error": "request is not authenticated", "code": 16}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args):  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> List[Request]:
        return self.state.requests

    def calls(self, method: str, path: str) -> List[Request]:
        return [r for r in self.requests if (r.method, r.path) ==
                (method, API + path)]

    def __enter__(self) -> "KfpApiRecorder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
