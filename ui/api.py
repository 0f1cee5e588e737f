"""The HTTP JSON API behind `onrecord serve`: the CLI's library calls and `--json` shapes, over HTTP.

One core (`onrecord.Onrecord`) per process holds the long-lived searcher, answerer and summarizer, and runs ingest
jobs on its worker; every input goes through its policy. Endpoints that block are plain `def`s, which FastAPI runs
in its threadpool (the Searcher is safe to share between threads). Every error is JSON, {"error": "message"}, with
a fitting status; never a traceback.

A web page in the user's browser must not drive it: bodies are read only with the content type they claim (a JSON
body sent as text/plain needs no CORS preflight), no CORS header is ever sent, and a request for a Host name the
server does not answer to (DNS rebinding) is refused. /docs loads its scripts from this server, not a CDN.
"""

from __future__ import annotations

import hmac
import json
import logging
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Iterable, Iterator, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from onrecord import Onrecord, __version__
from onrecord.ingest.sources import is_url
from onrecord.search.errors import Ambiguous, NoArchive, NotFound, OnrecordError, StorageError
from onrecord.search.export import FORMATS
from onrecord.search.retrieval.query import MODES, Filters
from onrecord.search.writeups.llm import LLMError

log = logging.getLogger("onrecord.api")

# Most specific first: the first class an error is an instance of gives its status.
STATUS = ((NotFound, 404), (Ambiguous, 400), (NoArchive, 503), (StorageError, 503), (LLMError, 502),
          (OnrecordError, 400))
CONTENT_TYPES = {"json": "application/json", "srt": "text/plain; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
                 "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
JSON_LIMIT = 64 * 2**10  # a {"url"} body; anything larger is not one
MULTIPART_OVERHEAD = 64 * 2**10  # boundaries and part headers around the files (up to 100 of them)
DOCS_ASSETS = "/docs-assets"  # Swagger UI and ReDoc as the fastapi-offline package ships them
Format = Literal[FORMATS]  # a tuple subscript: Literal["srt", "vtt", ...], so the docs list the choices
Mode = Literal[MODES]

router = APIRouter(prefix="/api")


def _core(request: Request) -> Onrecord:
    return request.app.state.core


Core = Annotated[Onrecord, Depends(_core)]
Question = Annotated[str, Query(min_length=1, description="The question, in your own words.")]
Interviews = Annotated[list[str] | None, Query(description="Only this interview (id, prefix or title); repeatable.")]


def _filters(interview: list[str] | None, **more) -> Filters:
    return Filters(interviews=tuple(interview or ()), **more)


# -- reading ---------------------------------------------------------------------------------------

@router.get("/search", summary="Search what was said (like `onrecord search --json`)")
def search(core: Core, q: Annotated[str, Query(min_length=1, description='Words, or "an exact phrase".')],
           limit: Annotated[int, Query(ge=1, le=100)] = 10, interview: Interviews = None,
           speaker: Annotated[str | None, Query(description="Only what this speaker said.")] = None,
           since: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
           until: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
           mode: Mode = "hybrid") -> list[dict]:
    filters = _filters(interview, speaker=speaker, since=since, until=until)
    return [h.as_json() for h in core.search(q, limit=limit, mode=mode, filters=filters)]


@router.get("/ask", summary="Answer from verified, timestamped quotes (like `onrecord ask --json`)")
def ask(core: Core, q: Question, interview: Interviews = None) -> dict:
    return core.ask(q, _filters(interview)).as_json()


@router.get("/ask/stream", summary="The same answer, streamed as Server-Sent Events",
            response_class=StreamingResponse,
            description="Events: `hits` (the passages the answer draws on, at once), `piece` ({text}: verified answer "
                        "text as the model writes it; the whole extractive answer at once without an LLM), then "
                        "`answer` (what /api/ask returns) or `error` ({error}).")
def ask_stream(core: Core, q: Question, interview: Interviews = None) -> StreamingResponse:
    streamed = core.ask_stream(q, _filters(interview))  # retrieval now: its errors get a status
    return StreamingResponse(_answer_events(streamed), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _answer_events(streamed) -> Iterator[str]:
    yield _event("hits", [h.as_json() for h in streamed.hits])
    try:
        for piece in streamed.pieces():
            yield _event("piece", {"text": piece})
    except OnrecordError as exc:
        yield _event("error", {"error": str(exc)})
        return
    except Exception:  # noqa: BLE001 - the status is sent already: say so in the stream, log the bug
        log.exception("answer stream failed")
        yield _event("error", {"error": "internal error (see the server's log)"})
        return
    yield _event("answer", streamed.answer.as_json())


def _event(name: str, data) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/interviews", summary="The interviews in the archive (like `onrecord list --json`)")
def interviews(core: Core) -> list[dict]:
    return [i.as_json() for i in core.interviews()]


@router.get("/interviews/{ref}", summary="An interview's transcript: JSON (like `onrecord show --json`), SRT, "
            "WebVTT, text, or Markdown with its write-up", response_class=StreamingResponse)
def interview(core: Core, ref: str, fmt: Annotated[Format, Query(alias="format")] = "json") -> StreamingResponse:
    found = core.interview(ref)
    pieces = core.export(found.id, fmt, write_up=core.summarize(found.id) if fmt == "md" else None)
    return StreamingResponse(pieces, media_type=CONTENT_TYPES[fmt],
                             headers={"Content-Disposition": f'inline; filename="{found.id}.{fmt}"'})


@router.get("/interviews/{ref}/summary", summary="Topic-by-topic write-up (like `onrecord summarize --json`)")
def summary(core: Core, ref: str, refresh: bool = False) -> dict:
    return core.summarize(ref, refresh=refresh).as_json()


@router.delete("/interviews/{ref}", summary="Delete an interview (like `onrecord delete --yes --json`)",
               description="The interview as `show` takes it: id, unique id prefix, exact title or words of the "
                           "title (an ambiguous one is 400, naming the candidates). Media files are left alone.")
def delete(core: Core, ref: str) -> dict:
    found = core.delete(ref)
    return {"deleted": found.id, "title": found.title}


# -- adding ----------------------------------------------------------------------------------------

_INGEST_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["url"],
                                    "properties": {"url": {"type": "string", "format": "uri"}}}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}


@router.post("/ingest", status_code=202, openapi_extra=_INGEST_BODY,
             summary="Add a URL (JSON {url}) or uploaded files (multipart `file`): a job to poll",
             description="Answers 202 with the job at once; GET /api/jobs/{id} until its state is done or failed. "
                         "Audio and video are transcribed on this server (minutes); transcripts (VTT, SRT, onrecord "
                         "JSON) take seconds. Any other content type is 415; an upload whose files together pass "
                         "ONRECORD_MAX_DOWNLOAD_MB is 413, as soon as its Content-Length or its bytes say so.")
async def ingest(request: Request, core: Core) -> JSONResponse:
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind == "multipart/form-data":
        uploads, urls = await _store_uploads(request, core), []
    elif kind == "application/json":
        uploads, urls = [], [await _url(_capped(request, JSON_LIMIT, 'too large for JSON {"url": ...}'))]
    else:  # text/plain and form posts are what a web page may send cross-origin without asking first
        raise HTTPException(415, 'send JSON {"url": "https://..."} as application/json, or files as '
                                 "multipart/form-data")
    job = await run_in_threadpool(lambda: core.submit(urls=urls, uploads=uploads))
    return JSONResponse(job.as_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


async def _url(request: Request) -> str:
    try:
        url = (await request.json())["url"]
    except (ValueError, KeyError, TypeError):
        raise HTTPException(400, 'send JSON {"url": "https://..."}, or files as multipart/form-data') from None
    if not isinstance(url, str) or not is_url(url):
        raise HTTPException(400, "url must be an http(s) URL: the API reads no files on the server; upload them")
    return url.strip()


async def _store_uploads(request: Request, core: Onrecord) -> list[Path]:
    settings = core.settings
    limit = settings.max_download_mb * 2**20
    too_big = f"the upload's files together pass {settings.max_download_mb:g} MB (ONRECORD_MAX_DOWNLOAD_MB)"
    async with _capped(request, int(limit) + MULTIPART_OVERHEAD, too_big).form(max_files=100) as form:
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise HTTPException(400, "a multipart upload needs one or more `file` parts")
        if any((f.size or 0) > limit for f in files):  # the body fitted, with its overhead: one file may not
            raise HTTPException(413, too_big)
        return [await run_in_threadpool(core.store_upload, f.filename or "upload", f.file) for f in files]


def _capped(request: Request, cap: int, too_big: str) -> Request:
    """`request`, whose body is refused with 413 past `cap` bytes: at once when its Content-Length says so, else as
    the bytes arrive (a chunked body), so an oversize upload is never spooled whole to disk first."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise HTTPException(413, too_big)
    seen = 0

    async def receive():
        nonlocal seen
        message = await request.receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise HTTPException(413, too_big)
        return message

    return Request(request.scope, receive)


@router.get("/jobs/{job_id}", summary="An ingest job: its state and each source's progress")
def job(core: Core, job_id: str) -> dict:
    found = core.job(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id!r} (jobs are kept until the server stops)")
    return found.as_json()


# -- the app ---------------------------------------------------------------------------------------

def create_app(core: Onrecord, host: str = "127.0.0.1", allowed_hosts: Iterable[str] = ()) -> FastAPI:
    """The API over `core`, for a server listening on `host`. It answers requests for loopback names, `host` (unless
    that is every interface, 0.0.0.0 or ::) and `allowed_hosts`, the names clients reach it by."""
    settings = core.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        core.warm_up_soon()
        yield

    app = FastAPI(title="onrecord", summary="Search, ask and read a searchable archive of interviews.",
                  version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.core = core
    app.include_router(router)
    _add_docs(app)
    _add_error_handlers(app)
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if token:
        _require_token(app, token)
    names = [*LOOPBACK_NAMES, *allowed_hosts, *([] if host in ("0.0.0.0", "::") else [host])]
    app.add_middleware(KnownHosts, names=names)  # added last, so it runs first
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, their scripts served from here: the docs work offline, and no
    script from a third party runs in a page that may hold the API token."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    title = f"onrecord {__version__} API"

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        here = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=here + app.openapi_url, title=title,
                                   swagger_js_url=f"{here}{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{here}{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{here}{DOCS_ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        here = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=here + app.openapi_url, title=title, with_google_fonts=False,
                              redoc_js_url=f"{here}{DOCS_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{here}{DOCS_ASSETS}/favicon.png")


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OnrecordError)
    async def domain_error(request: Request, exc: OnrecordError) -> JSONResponse:
        return _error(next(code for kind, code in STATUS if isinstance(exc, kind)), str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        why = "; ".join(f"{e['loc'][-1]}: {e['msg']}" if e.get("loc") else e["msg"] for e in exc.errors())
        return _error(400, why or "bad request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:  # uvicorn logs the traceback
        return _error(500, "internal error (see the server's log)")


def _require_token(app: FastAPI, token: str) -> None:
    expected = token.encode()

    @app.middleware("http")
    async def check_token(request: Request, call_next):
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # Header values arrive decoded as latin-1: encoding them back gives the bytes that were sent.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"), expected):
            return _error(401, "missing or wrong API token: send Authorization: Bearer <ONRECORD_API_TOKEN>",
                          {"WWW-Authenticate": "Bearer"})
        return await call_next(request)


class KnownHosts:
    """Answers only requests whose Host header names this server: a page on evil.example whose name is made to
    resolve to 127.0.0.1 (DNS rebinding) reaches the port, but its requests say Host: evil.example. Starlette's
    TrustedHostMiddleware does the same with a plain-text error; every error here is JSON."""

    def __init__(self, app: ASGIApp, names: Iterable[str]):
        self.app = app
        self.names = frozenset(_bracketed(name.strip().lower()) for name in names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = Headers(scope=scope).get("host", "")
            if _host_name(given) not in self.names:
                message = (f"this server does not answer to Host {given!r}: it answers to "
                           f"{', '.join(sorted(self.names))} (name others with `onrecord serve --allowed-host`)")
                await _error(400, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _bracketed(name: str) -> str:
    """An IPv6 address as a Host header writes it: ::1 is [::1]."""
    return f"[{name}]" if ":" in name and not name.startswith("[") else name


def _host_name(header: str) -> str:
    """The name in a Host header, without its port: `localhost:8080` is `localhost`, `[::1]:8080` is `[::1]`."""
    header = header.strip().lower()
    if header.startswith("["):
        address, bracket, _ = header.partition("]")
        return address + bracket
    return header.partition(":")[0]
