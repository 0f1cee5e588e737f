"""Who is writing an interview, when the archive is a Chroma server shared by many machines.

An embedded archive locks a file; machines sharing a server have no common filesystem, so they leave a claim
record in Chroma instead. Chroma has no compare-and-swap, so a claim is settled by writing it, waiting a
moment, and reading it back: of two writers racing, the one whose record survived goes ahead. A claim is
renewed on a timer while its writer lives (whatever the ingest is doing: a long download, a slow model load)
and lapses CLAIM_TTL seconds after its writer died, so a crashed worker's file is picked up again.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Callable

CLAIM_TTL = 600.0
RENEW_EVERY = 60.0
SETTLE = 0.1  # well above the few milliseconds between a rival's check and its write
POLL = 1.0
_NO_VECTOR = [1.0]


class Claims:
    def __init__(self, collection, clock: Callable[[], float] = time.time):
        self._collection = collection  # the archive's meta collection
        self._clock = clock
        self._held: dict[str, tuple[str, float]] = {}  # interview id -> (owner token, last renewal)
        self._renewals: dict[str, threading.Event] = {}  # interview id -> stops its renewal thread

    def acquire(self, interview_id: str) -> None:
        """Block until this process holds the claim (another writer finished, or its claim lapsed); from then
        on a thread renews it every RENEW_EVERY seconds until it is released."""
        owner = uuid.uuid4().hex
        while not self._try(interview_id, owner):
            time.sleep(POLL)
        self._held[interview_id] = (owner, self._clock())
        stop = self._renewals[interview_id] = threading.Event()
        threading.Thread(target=self._keep, args=(interview_id, owner, stop), daemon=True,
                         name=f"claim-{interview_id}").start()

    def _keep(self, interview_id: str, owner: str, stop: threading.Event) -> None:
        while not stop.wait(RENEW_EVERY):
            try:
                self._write(interview_id, owner)
            except Exception:  # noqa: BLE001 - a blip: the next tick tries again; a dead server lets it lapse
                continue

    def renew(self, interview_id: str) -> None:
        owner, last = self._held.get(interview_id, (None, 0.0))
        if owner and self._clock() - last > RENEW_EVERY:
            self._write(interview_id, owner)
            self._held[interview_id] = (owner, self._clock())

    def release(self, interview_id: str) -> None:
        if stop := self._renewals.pop(interview_id, None):
            stop.set()
        owner, _ = self._held.pop(interview_id, (None, 0.0))
        if owner and self._holder(interview_id) == owner:
            self._collection.delete(ids=[_key(interview_id)])

    def _try(self, interview_id: str, owner: str) -> bool:
        if self._holder(interview_id) not in (None, owner):
            return False
        self._write(interview_id, owner)
        time.sleep(SETTLE)
        return self._holder(interview_id) == owner

    def _holder(self, interview_id: str) -> str | None:
        got = self._collection.get(ids=[_key(interview_id)], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        return meta["owner"] if self._clock() - float(meta["at"]) < CLAIM_TTL else None

    def _write(self, interview_id: str, owner: str) -> None:
        self._collection.upsert(ids=[_key(interview_id)], metadatas=[{"owner": owner, "at": self._clock()}],
                                embeddings=[_NO_VECTOR])


def _key(interview_id: str) -> str:
    return f"claim-{interview_id}"
