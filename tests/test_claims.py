"""Claims on a shared server, with a clock we control, over an in-memory Chroma."""

from __future__ import annotations

import uuid

import chromadb
import pytest

from onrecord.search.store import claims
from onrecord.search.store.claims import Claims


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def meta():
    client = chromadb.EphemeralClient()
    return client.get_or_create_collection(f"meta-{uuid.uuid4().hex}", embedding_function=None)


def test_a_held_claim_keeps_others_out_until_released(meta, monkeypatch):
    clock = Clock()
    first, second = Claims(meta, clock), Claims(meta, clock)
    first.acquire("ep1")
    assert not second._try("ep1", "rival")
    first.release("ep1")
    assert second._try("ep1", "rival")


def test_a_dead_writers_claim_lapses_and_renewal_keeps_a_live_one(meta):
    clock = Clock()
    live, rival = Claims(meta, clock), Claims(meta, clock)
    live.acquire("ep1")
    for _ in range(20):  # 20 minutes of ingest, renewed as pages are staged
        clock.now += 60.5
        live.renew("ep1")
    assert not rival._try("ep1", "rival")
    clock.now += claims.CLAIM_TTL + 1  # the live writer died without releasing
    assert rival._try("ep1", "rival")
    live.release("ep1")  # a late release by the dead writer's owner must not drop the new holder's claim
    assert not Claims(meta, clock)._try("ep1", "third")


def test_a_claim_is_renewed_on_a_timer_while_its_writer_lives(meta, monkeypatch):
    """Nothing staged for longer than the claim lives (a long URL download): the claim holds all the same."""
    import time

    monkeypatch.setattr(claims, "RENEW_EVERY", 0.2)
    monkeypatch.setattr(claims, "CLAIM_TTL", 1.0)
    live, rival = Claims(meta), Claims(meta)
    live.acquire("ep1")
    time.sleep(2.5)  # no renew() call at all
    assert not rival._try("ep1", "rival"), "a live writer's claim never lapses"
    live.release("ep1")
    time.sleep(0.5)  # the renewal thread has stopped: it writes nothing after release
    assert rival._try("ep1", "rival")
