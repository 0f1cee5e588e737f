"""The HTTP JSON API behind `onrecord serve`: the CLI's library calls and `--json` shapes, over HTTP.

One long-lived Searcher, Answerer and Summarizer per process (ui/api_services.py); ingest jobs run on the app's
JobBoard worker. Endpoints that block are plain `def`s, which FastAPI runs in its threadpool (the Searcher is safe
to share between threads). Every error is JSON, {"error": "message"}, with a fitting status; never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Iterator, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from onrecord.ingest.sources import is_url
from onrecord.search.config import Settings
from onrecord.search.errors import NoArchive, NotFound, OnrecordError, StorageError
from onrecord.search.export import FORMATS, export
from onrecord.search.retrieval.query import MODES, Filters
from onrecord.search.writeups.llm import LLMError

from .api_services import Services
from .cli import deleted_json

log = logging.getLogger("onrecord.api")

# Most specific first: the first class an error is an instance of gives its status.
STATUS = ((NotFound, 404), (NoArchive, 503), (StorageError, 503), (LLMError, 502), (OnrecordError, 400))
CONTENT_TYPES = {"json": "application/json", "srt": "text/plain; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
                 "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8"}
Format = Literal[FORMATS]  # a tuple subscript: Literal["srt", "vtt", ...], so the docs list the choices
Mode = Literal[MODES]

router = APIRouter(prefix="/api")


def _services(request: Request) -> Services:
    return request.app.state.services


Svc = Annotated[Services, Depends(_services)]
Question = Annotated[str, Query(min_length=1, description="The question, in your own words.")]
Interviews = Annotated[list[str] | None, Query(description="Only this interview (id, prefix or title); repeatable.")]


def _filters(interview: list[str] | None, **more) -> Filters:
    return Filters(interviews=tuple(interview or ()), **more)


# -- reading ---------------------------------------------------------------------------------------

@router.get("/search", summary="Search what was said (like `onrecord search --json`)")
def search(services: Svc, q: Annotated[str, Query(min_length=1, description='Words, or "an exact phrase".')],
           limit: Annotated[int, Query(ge=1, le=100)] = 10, interview: Interviews = None,
           speaker: Annotated[str | None, Query(description="Only what this speaker said.")] = None,
           since: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
           until: Annotated[str | None, Query(description="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
           mode: Mode = "hybrid") -> list[dict]:
    filters = _filters(interview, speaker=speaker, since=since, until=until)
    return [h.as_json() for h in services.searcher().search(q, limit=limit, mode=mode, filters=filters)]


@router.get("/ask", summary="Answer from verified, timestamped quotes (like `onrecord ask --json`)")
def ask(services: Svc, q: Question, interview: Interviews = None) -> dict:
    return services.answerer().ask(q, _filters(interview)).as_json()


@router.get("/ask/stream", summary="The same answer, streamed as Server-Sent Events",
            response_class=StreamingResponse,
            description="Events: `hits` (the passages the answer draws on, at once), `piece` ({text}: verified answer "
                        "text as the model writes it; the whole extractive answer at once without an LLM), then "
                        "`answer` (what /api/ask returns) or `error` ({error}).")
def ask_stream(services: Svc, q: Question, interview: Interviews = None) -> StreamingResponse:
    streamed = services.answerer().stream(q, _filters(interview))  # retrieval now: its errors get a status
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
def interviews(services: Svc) -> list[dict]:
    return [i.as_json() for i in services.archive().list()]


@router.get("/interviews/{ref}", summary="An interview's transcript: JSON (like `onrecord show --json`), SRT, "
            "WebVTT, text, or Markdown with its write-up", response_class=StreamingResponse)
def interview(services: Svc, ref: str, fmt: Annotated[Format, Query(alias="format")] = "json") -> StreamingResponse:
    archive = services.archive()
    found = archive.resolve(ref)
    summary = services.summarizer().summarize(found.id) if fmt == "md" else None
    pieces = export(found, archive.segments(found), fmt, summary)
    return StreamingResponse(pieces, media_type=CONTENT_TYPES[fmt],
                             headers={"Content-Disposition": f'inline; filename="{found.id}.{fmt}"'})


@router.get("/interviews/{ref}/summary", summary="Topic-by-topic write-up (like `onrecord summarize --json`)")
def summary(services: Svc, ref: str, refresh: bool = False) -> dict:
    return services.summarizer().summarize(ref, refresh=refresh).as_json()


@router.delete("/interviews/{interview_id}", summary="Delete an interview (like `onrecord delete --json`)",
               description="Takes the full id, never a prefix or title. Media files are left alone.")
def delete(services: Svc, interview_id: str) -> dict:
    archive = services.archive()
    found = archive.get(interview_id)
    archive.delete(found.id)
    services.searcher().mark_stale()
    return deleted_json(found)


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
                         "JSON) take seconds.")
async def ingest(request: Request, services: Svc) -> JSONResponse:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        uploads = await _store_uploads(request, services.settings)
        inputs = [str(p) for p in uploads]
    else:
        inputs, uploads = [await _url(request)], []
    job = await run_in_threadpool(lambda: services.jobs().submit(inputs, uploads))
    return JSONResponse(job.as_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


async def _url(request: Request) -> str:
    try:
        url = (await request.json())["url"]
    except (ValueError, KeyError, TypeError):
        raise HTTPException(400, 'send JSON {"url": "https://..."}, or files as multipart/form-data') from None
    if not isinstance(url, str) or not is_url(url):
        raise HTTPException(400, "url must be an http(s) URL: the API reads no files on the server; upload them")
    return url.strip()


async def _store_uploads(request: Request, settings: Settings) -> list[Path]:
    from .app.uploads import store_upload

    limit = settings.max_download_mb * 2**20
    async with request.form(max_files=100) as form:
        files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
        if not files:
            raise HTTPException(400, "a multipart upload needs one or more `file` parts")
        if any((f.size or 0) > limit for f in files):
            raise HTTPException(413, f"a file is larger than {settings.max_download_mb:g} MB "
                                     "(ONRECORD_MAX_DOWNLOAD_MB)")
        folder = settings.media_dir / "uploads"
        return [await run_in_threadpool(store_upload, folder, f.filename or "upload", f.file) for f in files]


@router.get("/jobs/{job_id}", summary="An ingest job: its state and each source's progress")
def job(services: Svc, job_id: str) -> dict:
    found = services.job(job_id)
    if found is None:
        raise HTTPException(404, f"no job {job_id!r} (jobs are kept until the server stops)")
    return found.as_json()


# -- the app ---------------------------------------------------------------------------------------

def create_app(settings: Settings) -> FastAPI:
    services = Services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        services.warm_up_soon()
        yield

    app = FastAPI(title="onrecord", summary="Search, ask and read a searchable archive of interviews.",
                  version="0.1.0", lifespan=lifespan)
    app.state.services = services
    app.include_router(router)
    _add_error_handlers(app)
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if token:
        _require_token(app, token)
    return app


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
