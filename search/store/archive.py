"""The archive: every piece of state lives in Chroma, so one Chroma server can serve a whole team.

Collections
- ``onrecord-meta``: one record holding the schema version and the embedding model in use.
- ``onrecord-interviews``: one record per *complete* interview; its document is the interview's JSON.
  Writing this record is the commit point: readers only ever see interviews listed here.
- ``onrecord-transcripts``: the segments (with word timings), in pages of PAGE_SIZE segments. A page's document is
  a JSON array of its segments; its metadata ``sizes`` lists each segment's length there, so a reader that needs a
  few segments (a hit) decodes only those (see page_record and page_segments).
- ``onrecord-summaries``: topic summaries (JSON), stamped with what they were made from, reused until stale.
- ``onrecord-chunks-<digest>-<n>``: retrieval chunks with their embeddings. The meta record names the
  active one; `reindex` builds a new one beside it and then switches, so a crash mid-reindex loses nothing.

Chroma needs a vector for every record; the metadata-only collections store a constant 1-d vector.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import itertools
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .claims import Claims
from ..errors import Ambiguous, NoArchive, NotFound, OnrecordError, StorageError
from ..iterutil import batched
from ..models import Chunk, Interview, Segment, segment_from_json, segment_to_json

# 1: the first release. 2: media files under the media folder are stored relative to it ("media:NAME"), so
# machines that mount one shared media folder at different paths all find them (see search/migrate.py).
# 3: transcript pages record each segment's size, so a hit decodes its own few segments, not a whole page.
SCHEMA_VERSION = 3
# Schema 2 differs only in speed (its pages are decoded whole), so it is opened as it is: a user upgrading onrecord
# is never stopped, and `onrecord migrate` adds the sizes when they like (about 20 pages a second).
READABLE_FROM = 2
MEDIA_PREFIX = "media:"
PAGE_SIZE = 200
_META, _INTERVIEWS, _TRANSCRIPTS = "onrecord-meta", "onrecord-interviews", "onrecord-transcripts"
_SUMMARIES = "onrecord-summaries"
_VOICES = "onrecord-voices"  # one record per speaker of a recording: its voice embedding, and a name if given
_NO_VECTOR = [1.0]


def chunks_collection_name(embed_model: str, generation: int = 0) -> str:
    return f"onrecord-chunks-{hashlib.sha256(embed_model.encode()).hexdigest()[:12]}-{generation}"


def page_id(interview_id: str, page: int) -> str:
    return f"{interview_id}-p{page:05d}"


def chunk_id(interview_id: str, index: int) -> str:
    return f"{interview_id}-c{index:05d}"


def _storage_errors(method):
    """Chroma's own failures (a server gone away, a locked or full disk, a read-only folder) become one-line
    OnrecordErrors naming the archive; nothing committed is lost, and re-running resumes."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OnrecordError:
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many types, from Rust, SQLite and httpx
            if not is_storage_error(exc):
                raise
            raise StorageError(f"archive {self.location}: {storage_reason(exc)}") from exc

    return wrapper


def storage_reason(exc: BaseException) -> str:
    """Chroma's message, on one line, in words a user can act on where we know better ones."""
    reason = " ".join(str(exc).split())[:300] or exc.__class__.__name__
    if "readonly database" in reason or getattr(exc, "errno", None) == 30:  # 30: EROFS
        return ("the folder is read-only; Chroma writes to its folder even to read it, so make it writable "
                "or copy it somewhere that is")
    if "disk is full" in reason or getattr(exc, "errno", None) == 28:  # 28: ENOSPC
        return f"the disk is full ({reason}); free some space and run the same command again"
    return reason


def is_storage_error(exc: Exception) -> bool:
    import httpx
    from chromadb.errors import ChromaError

    return isinstance(exc, (ChromaError, httpx.HTTPError, ConnectionError, OSError)) or \
        type(exc).__module__.startswith("chromadb")


class Archive:
    """The archive over an injected Chroma client (persistent, HTTP or in-memory)."""

    @_storage_errors
    def __init__(self, client, *, location: str = "", reopen: Callable[[], object] | None = None,
                 folder: Path | None = None, min_free_bytes: int = 0, media_dir: Path | None = None,
                 upgrading: bool = False, create: bool = True):
        self.location = location
        self.media_dir = media_dir.expanduser().resolve() if media_dir else None  # once: list() maps every record
        self._reopen = reopen
        self._folder = folder  # an embedded archive's folder: locks live there, and its disk is watched
        self._min_free = min_free_bytes
        if not create and _META not in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            raise NoArchive(location)  # a read must not leave an empty archive behind (a typo'd path, say)
        self._attach(client)
        self._check_schema(upgrading)

    def _attach(self, client) -> None:
        self.client = client
        self._meta = self._collection(_META)
        self._claims = Claims(self._meta)
        self.interviews = self._collection(_INTERVIEWS)
        self.transcripts = self._collection(_TRANSCRIPTS)
        self.summaries = self._collection(_SUMMARIES)

    def refresh(self) -> None:
        """See writes made by other processes. An embedded Chroma keeps its vector index in memory, so a
        long-lived reader must reopen it after someone else committed; a server needs nothing."""
        if self._reopen is not None:
            self._attach(self._reopen())

    # -- archive-wide state -------------------------------------------------------------------

    def _collection(self, name: str):
        return self.client.get_or_create_collection(name, embedding_function=None,
                                                    metadata={"hnsw:space": "cosine"})

    def _meta_record(self) -> dict:
        got = self._meta.get(ids=["archive"], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {}

    def _check_schema(self, upgrading: bool) -> None:
        meta = self._meta_record()
        if not meta:
            self._meta.upsert(ids=["archive"], metadatas=[{"schema": SCHEMA_VERSION}], embeddings=[_NO_VECTOR])
        elif self.schema > SCHEMA_VERSION:
            raise OnrecordError(
                f"archive {self.location} has schema {self.schema}, newer than this onrecord "
                f"understands ({SCHEMA_VERSION}); upgrade onrecord (pip install -U onrecord)")
        elif self.schema < READABLE_FROM and not upgrading:
            raise OnrecordError(
                f"archive {self.location} has schema {self.schema}, older than this onrecord's ({SCHEMA_VERSION}); "
                f"run `onrecord --archive {self.location} migrate` to upgrade it in place (nothing is deleted)")

    @property
    def schema(self) -> int:
        return int(self._meta_record().get("schema", 1))

    def set_schema(self, version: int) -> None:
        self._meta.upsert(ids=["archive"], metadatas=[self._meta_record() | {"schema": version}],
                          embeddings=[_NO_VECTOR])

    @property
    def embed_model(self) -> str | None:
        return self._meta_record().get("embed_model")

    @property
    def generation(self) -> int:
        return int(self._meta_record().get("generation", 0))

    @_storage_errors
    def set_embed_model(self, name: str, generation: int = 0) -> None:
        """Switch (in one write) which embedding model and chunks collection readers use."""
        meta = self._meta_record() | {"embed_model": name, "generation": generation,
                                      "chunks_collection": chunks_collection_name(name, generation),
                                      "schema": SCHEMA_VERSION}
        self._meta.upsert(ids=["archive"], metadatas=[meta], embeddings=[_NO_VECTOR])
        self._bump_revision()

    @property
    def chunks_collection_name(self) -> str | None:
        return self._meta_record().get("chunks_collection")

    @_storage_errors
    def revision(self) -> tuple[str | None, str | None]:
        """Changes whenever an interview is committed or deleted, or the chunks collection switches: one read
        tells a long-lived reader whether to look again. A random token rather than a counter, so two writers
        racing can never leave it looking unchanged."""
        got = self._meta.get(ids=["archive", "revision"], include=["metadatas"])
        meta = {i: m for i, m in zip(got["ids"], got["metadatas"])}
        return meta.get("revision", {}).get("token"), meta.get("archive", {}).get("chunks_collection")

    def _bump_revision(self) -> None:
        self._meta.upsert(ids=["revision"], metadatas=[{"token": uuid.uuid4().hex}], embeddings=[_NO_VECTOR])

    @_storage_errors
    def chunks(self, collection: str | None = None):
        name = collection or self._meta_record().get("chunks_collection")
        if not name:
            raise OnrecordError("the archive has no embedding model yet: ingest something first")
        return self._collection(name)

    # -- reading --------------------------------------------------------------------------------

    @_storage_errors
    def list(self) -> list[Interview]:
        got = self.interviews.get(include=["documents"])
        items = [self._resolved(interview_from_doc(doc)) for doc in got["documents"]]
        return sorted(items, key=lambda i: (i.created, i.id))

    @_storage_errors
    def has(self, interview_id: str) -> bool:
        return bool(self.interviews.get(ids=[interview_id], include=[])["ids"])

    @_storage_errors
    def get(self, interview_id: str) -> Interview:
        got = self.interviews.get(ids=[interview_id], include=["documents"])
        if not got["ids"]:
            raise NotFound(f"no interview {interview_id!r} in the archive")
        return self._resolved(interview_from_doc(got["documents"][0]))

    def resolve(self, ref: str) -> Interview:
        """An interview by id, unique id prefix (like git), exact title, or else words of its title ("flaky" for
        "Flaky tests and how to fix them"), ignoring case."""
        ref = ref.strip()
        if ref and self.has(ref):
            return self.get(ref)
        listed = self.list()
        matches = [i for i in listed if ref and (i.id.startswith(ref) or i.title == ref)]
        if not matches and (words := _title_words(ref)):
            matches = [i for i in listed if words <= _title_words(i.title)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no interview matches {ref!r} (see `onrecord list`)")
        more = f", and {len(matches) - 5} more" if len(matches) > 5 else ""
        raise Ambiguous(f"{ref!r} is ambiguous: " + ", ".join(f"{m.id} ({m.title})" for m in matches[:5]) + more)

    def segments(self, interview: Interview) -> Iterator[Segment]:
        """The transcript in order, one page at a time."""
        pages = -(-interview.segments // PAGE_SIZE)
        for ids in batched(range(pages), 50):
            got = self.transcripts.get(ids=[page_id(interview.id, p) for p in ids],
                                       include=["documents", "metadatas"])
            ordered = sorted(zip(got["metadatas"], got["documents"]), key=lambda md: md[0]["page"])
            if len(ordered) != len(ids):
                raise OnrecordError(f"interview {interview.id}: transcript pages are missing; re-ingest it")
            for _, doc in ordered:
                yield from (segment_from_json(s) for s in json.loads(doc))

    @_storage_errors
    def chunk_vectors(self, interview: Interview) -> tuple[list[Chunk], np.ndarray]:
        """The interview's retrieval chunks in order, with the vectors stored for them (nothing re-embedded)."""
        got = self.chunks().get(where={"interview_id": interview.id}, include=["metadatas", "embeddings"])
        rows = sorted(zip(got["metadatas"], got["embeddings"]), key=lambda row: row[0]["index"])
        chunks = [Chunk(m["index"], m["start"], m["end"], "", m.get("speaker"), m["first_segment"],
                        m["last_segment"]) for m, _ in rows]
        return chunks, np.asarray([v for _, v in rows], dtype=np.float32).reshape(len(rows), -1)

    # -- writing: stage pages and chunks, then commit the interview record ----------------------

    @contextlib.contextmanager
    def writing(self, interview_id: str) -> Iterator[None]:
        """Only one process at a time writes a given interview: a second ingest of the same file waits, then
        finds it committed. Embedded archives lock a file beside the data; on a server, machines share no
        filesystem, so they hold a claim record in Chroma (search/claims.py)."""
        if self._folder is None:
            self._claim(interview_id)
            try:
                yield
            finally:
                self._unclaim(interview_id)
            return
        import fcntl

        locks = self._folder / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{interview_id}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @_storage_errors
    def _claim(self, interview_id: str) -> None:
        self._claims.acquire(interview_id)

    def _unclaim(self, interview_id: str) -> None:
        try:
            self._claims.release(interview_id)
        except Exception as exc:  # noqa: BLE001 - the server may be gone; the claim then lapses on its own
            if not is_storage_error(exc):
                raise

    @_storage_errors
    def discard_staged(self, interview_id: str) -> None:
        """Drop what a crashed or interrupted ingest of this interview left behind."""
        self.transcripts.delete(where={"interview_id": interview_id})
        if self.embed_model:
            self.chunks().delete(where={"interview_id": interview_id})

    def ensure_space(self) -> None:
        """Refuse to write when the archive's disk is nearly full. Chroma's embedded writer hangs forever on a
        full disk (chromadb 1.5, seen here), so the only safe write is one that stops before that point."""
        if self._folder is None or not self._min_free:
            return
        free = shutil.disk_usage(self._folder).free
        if free < self._min_free:
            raise StorageError(
                f"archive {self.location}: the disk is nearly full ({free / 2**20:.1f} MiB free; onrecord stops "
                f"writing below {self._min_free / 2**20:.0f} MiB, ONRECORD_MIN_FREE_MB); free some space and run "
                f"the same command again")

    @_storage_errors
    def stage_pages(self, interview_id: str, first_page: int, pages: Sequence[Sequence[Segment]]) -> None:
        self.ensure_space()
        self._claims.renew(interview_id)
        self._put_pages(interview_id, first_page, pages)

    def _put_pages(self, interview_id: str, first_page: int, pages: Sequence[Sequence[Segment]]) -> None:
        records = [page_record([segment_to_json(s) for s in page]) for page in pages]
        self.transcripts.upsert(
            ids=[page_id(interview_id, first_page + n) for n in range(len(pages))],
            documents=[doc for doc, _ in records],
            metadatas=[{"interview_id": interview_id, "page": first_page + n, "sizes": sizes}
                       for n, (_, sizes) in enumerate(records)],
            embeddings=[_NO_VECTOR] * len(pages),
        )

    @_storage_errors
    def stage_chunks(self, interview_id: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]],
                     *, day: int, collection: str | None = None) -> None:
        if not chunks:
            return
        self.ensure_space()
        self.chunks(collection).upsert(
            ids=[chunk_id(interview_id, c.index) for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[_chunk_metadata(interview_id, c, day) for c in chunks],
            embeddings=[list(v) for v in vectors],
        )

    @_storage_errors
    def commit(self, interview: Interview) -> None:
        self.ensure_space()
        self.put_record(interview)
        self._bump_revision()

    def put_record(self, interview: Interview) -> None:
        stored = dataclasses.replace(interview, media=self.media_ref(interview.media))
        self.interviews.upsert(ids=[interview.id], documents=[json.dumps(stored.as_json(), ensure_ascii=False)],
                               metadatas=[{"created": interview.created, "kind": interview.kind}],
                               embeddings=[_NO_VECTOR])

    # -- media files: outside Chroma; those in the media folder are stored relative to it -------------

    def media_ref(self, media: str | None) -> str | None:
        """How a media location is stored: relative when it lies in this machine's media folder."""
        if not media or self.media_dir is None or "://" in media or media.startswith(MEDIA_PREFIX):
            return media
        path = Path(media)
        if path.is_absolute() and path.is_relative_to(self.media_dir):
            return MEDIA_PREFIX + path.relative_to(self.media_dir).as_posix()
        return media

    def media_path(self, media: str | None) -> str | None:
        """Where this machine finds a stored media location."""
        if media and media.startswith(MEDIA_PREFIX) and self.media_dir is not None:
            return str(self.media_dir / media[len(MEDIA_PREFIX):])
        return media

    def _resolved(self, interview: Interview) -> Interview:
        return dataclasses.replace(interview, media=self.media_path(interview.media))

    @_storage_errors
    def stored_records(self) -> list[Interview]:
        """The interview records exactly as stored, media not resolved for this machine: for migrations."""
        return [interview_from_doc(doc) for doc in self.interviews.get(include=["documents"])["documents"]]

    @_storage_errors
    def delete(self, interview_id: str) -> None:
        self.interviews.delete(ids=[interview_id])  # invisible first, then the rest
        self._bump_revision()
        self.discard_staged(interview_id)
        self.summaries.delete(where={"interview_id": interview_id})
        self._collection(_VOICES).delete(where={"interview_id": interview_id})

    @_storage_errors
    def rename_speaker(self, interview: Interview, old: str, new: str, names: dict[str, str],
                       recognised: dict[str, float] | None = None) -> Interview:
        """Every segment and chunk said by `old` is now said by `new`, then the record (with `names`) is
        rewritten and stored write-ups, which quote by name, are dropped. Idempotent: an interrupted rename
        is finished by running it again (the record, written last, still says `old`)."""
        self.ensure_space()
        pages = -(-interview.segments // PAGE_SIZE)
        for ids in batched(range(pages), 50):
            got = self.transcripts.get(ids=[page_id(interview.id, p) for p in ids], include=["documents", "metadatas"])
            changed = {pid: (page, meta) for pid, page, meta in zip(got["ids"], map(json.loads, got["documents"]),
                                                                     got["metadatas"])
                       if any(s.get("speaker") == old for s in page)}
            for page, _ in changed.values():
                for s in page:
                    s["speaker"] = new if s.get("speaker") == old else s.get("speaker")
            if changed:
                records = [(page_record(page), meta) for page, meta in changed.values()]
                self.transcripts.update(ids=list(changed), embeddings=[_NO_VECTOR] * len(changed),
                                        documents=[doc for (doc, _), _ in records],
                                        metadatas=[meta | {"sizes": sizes} for (_, sizes), meta in records])
        if self.chunks_collection_name:
            self._rename_in_chunks(interview.id, old, new)
        self.summaries.delete(where={"interview_id": interview.id})
        speakers = tuple(new if s == old else s for s in interview.speakers)
        renamed = dataclasses.replace(interview, speakers=speakers, names=names,
                                      recognised=interview.recognised if recognised is None else recognised)
        self.commit(renamed)
        return renamed

    # -- voices: who a speaker is, across recordings ------------------------------------------------

    @_storage_errors
    def keep_voices(self, interview_id: str, voices: dict[str, Sequence[float]], names: dict[str, str]) -> None:
        """Each speaker's voice embedding; a named one is what later recordings are recognised by."""
        if voices:
            labels = sorted(voices)
            self._collection(_VOICES).upsert(
                ids=[f"{interview_id}-voice-{label}" for label in labels],
                embeddings=[list(voices[label]) for label in labels],
                metadatas=[{"interview_id": interview_id, "label": label, "name": names.get(label, ""),
                            "named": label in names} for label in labels])

    @_storage_errors
    def name_voice(self, interview_id: str, label: str, name: str | None) -> None:
        voices = self._collection(_VOICES)
        got = voices.get(ids=[f"{interview_id}-voice-{label}"], include=["metadatas"])
        if got["ids"]:
            voices.update(ids=got["ids"], metadatas=[got["metadatas"][0] | {"name": name or "", "named": bool(name)}])

    @_storage_errors
    def nearest_named_voice(self, voice: Sequence[float], other_than: str) -> tuple[str, float] | None:
        """The named voice (of another interview) most like `voice`: its name and cosine similarity."""
        voices = self._collection(_VOICES)
        where = {"$and": [{"named": True}, {"interview_id": {"$ne": other_than}}]}
        if not voices.get(where=where, limit=1, include=[])["ids"]:
            return None
        got = voices.query(query_embeddings=[list(voice)], n_results=1, where=where,
                           include=["metadatas", "distances"])
        if not got["ids"][0]:
            return None
        return got["metadatas"][0][0]["name"], 1.0 - float(got["distances"][0][0])

    @_storage_errors
    def set_speakers(self, interview: Interview, segments: Sequence[Segment], names: dict[str, str],
                     recognised: dict[str, float]) -> Interview:
        """New speakers for the same segments (`onrecord diarize`), rewritten in place: pages, then the chunks'
        metadata, then the record, whose names are cleared (the labels are new). Stored write-ups are dropped.
        Running it again after an interruption finishes it; readers meanwhile see some segments' new speakers."""
        if len(segments) != interview.segments:
            raise OnrecordError(f"interview {interview.id}: {len(segments)} segments given, "
                                f"it has {interview.segments}")
        self.ensure_space()
        pages = list(iter_pages(segments))
        for first in range(0, len(pages), 10):
            self._put_pages(interview.id, first, pages[first:first + 10])
        if self.chunks_collection_name:
            chunks = self.chunks()
            got = chunks.get(where={"interview_id": interview.id}, include=["metadatas", "documents", "embeddings"])
            if got["ids"]:
                metas = []
                for meta in got["metadatas"]:
                    spoken = segments[meta["first_segment"]:meta["last_segment"] + 1]
                    who = tuple(dict.fromkeys(s.speaker for s in spoken if s.speaker))
                    kept = {k: v for k, v in meta.items() if k not in ("speaker", "speakers")}
                    metas.append(kept | _speaker_metadata(who))
                chunks.upsert(ids=got["ids"], documents=got["documents"], embeddings=got["embeddings"],
                              metadatas=metas)
        self.summaries.delete(where={"interview_id": interview.id})
        speakers = tuple(dict.fromkeys(s.speaker for s in segments if s.speaker))
        changed = dataclasses.replace(interview, speakers=speakers, names=names, recognised=recognised)
        self.commit(changed)
        return changed

    def _rename_in_chunks(self, interview_id: str, old: str, new: str) -> None:
        chunks = self.chunks()
        for field, match in (("speaker", old), ("speakers", {"$contains": old})):
            got = chunks.get(where={"$and": [{"interview_id": interview_id}, {field: match}]}, include=["metadatas"])
            if got["ids"]:
                renamed = [m | {"speaker": new} if field == "speaker" else
                           m | {"speakers": [new if s == old else s for s in m["speakers"]]} for m in got["metadatas"]]
                chunks.update(ids=got["ids"], metadatas=renamed)

    # -- derived results kept for reuse ------------------------------------------------------------

    @_storage_errors
    def cached_summary(self, key: str, stamp: str) -> dict | None:
        got = self.summaries.get(ids=[key], include=["documents", "metadatas"])
        if not got["ids"] or got["metadatas"][0].get("stamp") != stamp:
            return None
        return json.loads(got["documents"][0])

    @_storage_errors
    def keep_summary(self, key: str, interview_id: str, stamp: str, data: dict) -> None:
        self.summaries.upsert(ids=[key], documents=[json.dumps(data, ensure_ascii=False)],
                              metadatas=[{"interview_id": interview_id, "stamp": stamp}], embeddings=[_NO_VECTOR])

    def drop_collection(self, name: str) -> None:
        try:
            self.client.delete_collection(name)
        except Exception:  # noqa: BLE001 - Chroma raises different types per backend for "not there"
            pass


def _chunk_metadata(interview_id: str, chunk: Chunk, day: int) -> dict:
    meta = {"interview_id": interview_id, "index": chunk.index, "start": chunk.start, "end": chunk.end,
            "first_segment": chunk.first_segment, "last_segment": chunk.last_segment, "day": day}
    return meta | _speaker_metadata(chunk.speakers or ((chunk.speaker,) if chunk.speaker else ()))


def _speaker_metadata(speakers: tuple[str, ...]) -> dict:
    """One speaker as `speaker`; grouped short turns as a `speakers` list, which a speaker filter matches by any
    of them (see Searcher._where)."""
    if len(speakers) == 1:
        return {"speaker": speakers[0]}
    return {"speakers": list(speakers)} if speakers else {}


def interview_from_doc(doc: str) -> Interview:
    data = json.loads(doc)
    data["speakers"] = tuple(data.get("speakers") or ())
    data["names"] = dict(data.get("names") or {})
    data["recognised"] = dict(data.get("recognised") or {})
    fields = Interview.__dataclass_fields__
    return Interview(**{k: v for k, v in data.items() if k in fields})


def _title_words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def page_record(segments: Sequence[dict]) -> tuple[str, str]:
    """A transcript page as stored: its document, a JSON array of the segments (as segment_to_json gives them),
    and its `sizes`, each segment's length in that document, comma-separated (one short string, not a list
    Chroma would index element by element)."""
    parts = [json.dumps(s, ensure_ascii=False) for s in segments]
    return "[" + ",".join(parts) + "]", ",".join(str(len(p)) for p in parts)


def page_segments(doc: str, meta: dict, wanted: Iterable[int]) -> dict[int, dict]:
    """The segments at positions `wanted` of a stored page (those it has), decoding only them: the work is
    bounded by what is asked for, not by the page. A page without `sizes` (one rewritten mid-migration by an
    older writer) is decoded whole."""
    sizes = meta.get("sizes")
    if sizes is None:
        page = json.loads(doc)
        return {n: page[n] for n in wanted if 0 <= n < len(page)}
    lengths = [int(size) for size in sizes.split(",")] if sizes else []
    starts = list(itertools.accumulate((size + 1 for size in lengths[:-1]), initial=1))
    return {n: json.loads(doc[starts[n]:starts[n] + lengths[n]]) for n in wanted if 0 <= n < len(lengths)}


def iter_pages(segments: Iterable[Segment]) -> Iterator[list[Segment]]:
    for page in batched(segments, PAGE_SIZE):
        yield list(page)
