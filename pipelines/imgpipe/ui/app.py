"""The UI's routes: pages rendered on the server, a JSON feed for live
progress, artifact files, and the model store's two actions.

Safety, since the UI has no login: it listens on loopback unless told
otherwise (cli), and then answers only requests addressed to a loopback
name (starlette's TrustedHostMiddleware, against DNS rebinding),
serves only files under the output folder (files.OutputFolder), and
changes nothing unless started with --allow-actions: promote and rollback
are POST only, refused with 403 otherwise, and a POST from a page of
another origin is refused too (a web page cannot drive the actions
through the visitor's browser). Artifact HTML (Data Docs, model reports)
is served sandboxed, in an origin of its own.
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.trustedhost import TrustedHostMiddleware

from imgpipe.ui import pages
from imgpipe.ui.files import OutputFolder
from imgpipe.ui.models import ActionRefused, act

HERE = Path(__file__).parent
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]
SANDBOX = "sandbox allow-scripts allow-popups allow-forms"
# Start the TFMA worker a moment after start-up (evaluation.py), so the
# first page is not slowed by its start.
WARM_AFTER_S = 1.0
NEWEST_WARMED = 10


def create_app(output: Path, allow_actions: bool = False,
               host: str = "127.0.0.1", warm: bool = True) -> FastAPI:
    ui = pages.Ui(OutputFolder(output), allow_actions)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        timer = threading.Timer(WARM_AFTER_S, _warm, args=(ui,))
        timer.daemon = True
        if warm:
            timer.start()
        yield
        timer.cancel()
        ui.evaluations.close()

    app = FastAPI(title="imgpipe ui", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    # Listening beyond loopback (--allow-remote) is the choice to be
    # reached by any name; on loopback only loopback names are answered.
    from imgpipe.serving.bind import is_loopback
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=sorted(
        {host, *LOOPBACK_NAMES}) if is_loopback(host) else ["*"])
    app.mount("/static", StaticFiles(directory=HERE / "static"),
              name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(folder=ui.folder.root, when=pages.when,
                                 duration=pages.duration,
                                 local_time=pages.local_time,
                                 allow_actions=allow_actions)
    app.state.ui = ui

    def page(request: Request, name: str, context: dict,
             status: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context,
                                          status_code=status)

    def problem(request: Request, status: int, title: str, text: str):
        return page(request, "problem.html",
                    {"title": title, "text": text}, status)

    @app.get("/", response_class=HTMLResponse)
    def runs_page(request: Request):
        return page(request, "runs.html", pages.runs_page(ui))

    @app.get("/api/live")
    def live():
        return JSONResponse(pages.live(ui),
                            headers={"Cache-Control": "no-store"})

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str):
        context = pages.run_page(ui, run_id)
        if context is None:
            return problem(request, 404, "No such run", f"There is no run "
                           f"{run_id!r} in {ui.folder.metadata_path}.")
        return page(request, "run.html", context)

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(request: Request, a: Optional[str] = None,
                     b: Optional[str] = None):
        return page(request, "compare.html", pages.compare_page(ui, a, b))

    @app.get("/models", response_class=HTMLResponse)
    def models_page(request: Request):
        return page(request, "models.html", pages.models_page(ui))

    @app.post("/models/{name}/{action}", response_class=HTMLResponse)
    async def model_action(request: Request, name: str, action: str):
        refusal = _refusal(request, allow_actions)
        if refusal:
            return problem(request, 403, "Action refused", refusal)
        # The buttons post a urlencoded form (reason, force): the standard
        # library reads it, with no multipart parser to install.
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        reason = form.get("reason", [""])[0]
        force = form.get("force", [""])[0] == "true"
        try:
            message = await run_in_threadpool(act, ui.folder, name, action,
                                              reason, force)
        except ActionRefused as why:
            return page(request, "models.html",
                        pages.models_page(ui, error=str(why)), 409)
        return page(request, "models.html", pages.models_page(ui, message))

    @app.get("/models/{name}/{action}", response_class=HTMLResponse)
    def model_action_get(request: Request, name: str, action: str):
        return problem(request, 403, "Action refused", "Promote and "
                       "rollback change what serves: they are taken only "
                       "as a POST from the buttons of the model store page "
                       "(and only when the UI was started with "
                       "--allow-actions), never by opening an address.")

    @app.get("/files/{path:path}")
    def artifact_file(request: Request, path: str):
        found = ui.folder.requested(path)
        if found is None:
            return problem(request, 404, "No such file", f"{path} is not a "
                           f"file under {ui.folder.root}: the UI serves "
                           "only the output folder's own files.")
        headers = {"Content-Security-Policy": SANDBOX} \
            if found.suffix in (".html", ".htm") else {}
        media = "text/plain; charset=utf-8" if found.suffix in (
            ".jsonl", ".log", ".txt", ".pbtxt") else None
        return FileResponse(found, media_type=media, headers=headers)

    return app


def _refusal(request: Request, allow_actions: bool) -> Optional[str]:
    if not allow_actions:
        return ("This UI was started read-only. Start it with "
                "`imgpipe ui --allow-actions` to promote or roll back from "
                "here, or use `imgpipe promote` / `imgpipe rollback`.")
    origin = request.headers.get("origin")
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != expected:
        return (f"The request came from a page of {origin}, not from this "
                "UI: promote and rollback are taken only from the UI's own "
                "model store page.")
    return None


def _warm(ui: pages.Ui) -> None:
    runs = pages.evaluated(ui.runs())
    uris = [run.output("Evaluator", "evaluation").uri
            for run in pages.distinct_evaluations(runs)[:NEWEST_WARMED]]
    ui.evaluations.prefetch(uris)
