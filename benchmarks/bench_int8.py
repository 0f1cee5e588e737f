"""Benchmark the int8 MiniLM (all-MiniLM-L6-v2-int8) against the float32 one: speed, and MRR@10 of dense retrieval.

Quality. The 70 questions of benchmarks/data/search_eval.jsonl, ranked by cosine in numpy over the chunks of an
archive built with all-MiniLM-L6-v2 (--archive, default benchmarks/out/corpus-archive, read from a copy in a temp
folder: Chroma writes to its folder even to read it). The float32 side uses the vectors stored there. The int8
side embeds a pool of chunks: every chunk of the questions' episodes, the float32 model's top POOL_TOP per
question, and --random others; so that it takes minutes, not an hour, on 2 cores. Adding chunks to the pool can
only push a correct hit down, so the int8 MRR over the pool is an upper bound of its MRR over the whole archive;
the float32 MRR is reported over both. A hit is correct as in bench_search.py: its episode, and its [start, end]
within the answer's window widened by SLACK_S. Verdict: the int8 model may become the default only if it loses at
most MAX_LOSS.

Speed. --speed-texts chunk texts embedded by each model, alternating, twice each; the faster run of each counts.

Run from the repository root, with the project's venv active:
    python benchmarks/bench_int8.py [--archive DIR] [--random N] [--speed-texts N]
Writes benchmarks/out/bench_int8.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import CORPUS_ARCHIVE, SLACK_S, configure_environment, questions, write_report

POOL_TOP = 40
MAX_LOSS = 0.01


def read_chunks(archive: Path) -> tuple[list[dict], np.ndarray]:
    """Every chunk (text, episode file, start, end) and its stored vector."""
    import chromadb

    client = chromadb.PersistentClient(path=str(archive))
    meta = client.get_collection("onrecord-meta").get(ids=["archive"], include=["metadatas"])["metadatas"][0]
    if meta.get("embed_model") != "all-MiniLM-L6-v2":
        sys.exit(f"{archive} is indexed with {meta.get('embed_model')!r}, not all-MiniLM-L6-v2")
    records = client.get_collection("onrecord-interviews").get(include=["documents"])["documents"]
    episode = {json.loads(d)["id"]: Path(json.loads(d)["source"]).name for d in records}
    got = client.get_collection(meta["chunks_collection"]).get(include=["documents", "metadatas", "embeddings"])
    chunks = [{"text": t, "episode": episode.get(m["interview_id"]), "start": m["start"], "end": m["end"]}
              for t, m in zip(got["documents"], got["metadatas"])]
    return chunks, np.asarray(got["embeddings"], dtype=np.float32)


def mrr(questions: list[dict], queries: np.ndarray, vectors: np.ndarray, rows: np.ndarray, chunks: list[dict]):
    total = 0.0
    for question, query in zip(questions, queries):
        for rank, i in enumerate(rows[np.argsort(-(vectors @ query))[:10]], 1):
            c = chunks[i]
            if c["episode"] == question["episode"] and c["start"] <= question["end"] + SLACK_S \
                    and c["end"] >= question["start"] - SLACK_S:
                total += 1 / rank
                break
    return round(total / len(questions), 4)


def pool(questions, queries, stored, chunks, extra: int) -> np.ndarray:
    wanted = {q["episode"] for q in questions}
    rows = set(np.argsort(-(queries @ stored.T), axis=1)[:, :POOL_TOP].ravel().tolist())
    rows |= {i for i, c in enumerate(chunks) if c["episode"] in wanted}
    rows |= set(np.random.default_rng(0).choice(len(chunks), extra, replace=False).tolist())
    return np.array(sorted(rows))


def speed(encoders: dict, texts: list[str]) -> dict[str, float]:
    best = {name: float("inf") for name in encoders}
    for _ in range(2):
        for name, embedder in encoders.items():
            start = time.perf_counter()
            embedder.embed(texts)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: round(len(texts) / seconds, 1) for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=CORPUS_ARCHIVE)
    parser.add_argument("--random", type=int, default=1500, help="random chunks added to the pool (default 1500)")
    parser.add_argument("--speed-texts", type=int, default=256)
    args = parser.parse_args()
    configure_environment()
    from onrecord.search.config import Settings
    from onrecord.search.retrieval.embedder import SentenceTransformerEmbedder

    settings = Settings()
    fp32, int8 = (SentenceTransformerEmbedder(name, cache_dir=settings.cache_dir)
                  for name in ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8"))
    with tempfile.TemporaryDirectory(prefix="bench-int8-") as tmp:
        shutil.copytree(args.archive, Path(tmp) / "archive")
        chunks, stored = read_chunks(Path(tmp) / "archive")
    asked = questions()
    q32, q8 = (np.asarray(m.embed([q["question"] for q in asked]), dtype=np.float32) for m in (fp32, int8))
    rows = pool(asked, q32, stored, chunks, args.random)
    print(f"{len(chunks)} chunks, a pool of {len(rows)}; load average {os.getloadavg()[0]:.2f}", flush=True)
    start = time.perf_counter()
    pooled = np.asarray(int8.embed([chunks[i]["text"] for i in rows]), dtype=np.float32)
    report = {"chunks": len(chunks), "pool": len(rows), "int8_pool_seconds": round(time.perf_counter() - start, 1),
              "fp32_mrr10_all": mrr(asked, q32, stored, np.arange(len(chunks)), chunks),
              "fp32_mrr10_pool": mrr(asked, q32, stored[rows], rows, chunks),
              "int8_mrr10_pool": mrr(asked, q8, pooled, rows, chunks),
              "cosine_int8_fp32_mean": round(float((pooled * stored[rows]).sum(1).mean()), 4),
              "chunks_per_second": speed({"fp32": fp32, "int8": int8},
                                         [chunks[i]["text"] for i in rows[:args.speed_texts]]),
              "load_after": round(os.getloadavg()[0], 2)}
    report["loss"] = round(report["fp32_mrr10_pool"] - report["int8_mrr10_pool"], 4)
    report["adopt"] = report["loss"] <= MAX_LOSS
    for key, value in report.items():
        print(f"  {key:<24} {value}")
    print(f"int8 {'may' if report['adopt'] else 'must not'} be the default: it loses {report['loss']:.4f} MRR@10 "
          f"(at most {MAX_LOSS} allowed)")
    write_report("bench_int8", report)


if __name__ == "__main__":
    main()
