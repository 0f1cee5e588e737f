"""What the HTTP API adds to a search: `GET /api/search` on a running `onrecord serve`, against `Searcher.search`
in this process, on the same archive and the same questions, side by side.

    python benchmarks/bench_api.py [--archive DIR] [--queries 50] [--repeats 3]

The archive: --archive DIR (default benchmarks/out/corpus-archive, the 509-episode archive) is used as it is when it
holds anything, else built as bench_search.py builds it (all transcripts of ../shared/data/podcasts/talkpython;
~11 min on 2 cores). The server is this checkout's (`onrecord --archive DIR serve --port 0 --json`, run from
the repository root), its log in benchmarks/out/bench_api-server.log; the in-process Searcher is built the way the
CLI builds it (harness.searcher), from this checkout too.

Queries: the first --queries questions of benchmarks/data/search_eval.jsonl (the ones bench_search.py,
bench_load.py and bench_app.py use), limit=10, hybrid mode. Warm-up first: one query per mode through the API
(keyword first: it loads or builds the BM25 index), then the same in process. Then --repeats rounds over the
questions; each question is timed once each way, one after the other, the order alternating, so drift in machine
load hits both alike. API time: the request sent to the response's JSON parsed (httpx, one kept-alive
connection); in-process time: the `search` call alone. Each question's hits are compared (interview, start, end,
text, in order) to show both sides did the same work. A third series, timed alongside, is the floor: a request to
an endpoint that does nothing (GET /api/jobs/none, a 404) through the same routing, threadpool and connection: what
HTTP costs on this machine at this load, apart from any search. Reported: p50 / p95 / mean per series, the
API / in-process ratios and the added milliseconds at p50 and p95, and the server's peak RSS.
The report is printed and written as JSON to benchmarks/out/bench_api.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from harness import (
    CORPUS_ARCHIVE, DEFAULT_CORPUS, OUT, WARMUP_ORDER, api_server, configure_environment, ensure_corpus_archive,
    load_average, process_io, questions, searcher, summary_ms, timed, warm_up, write_report)

LIMIT = 10


def shape(hits: list[dict]) -> list[tuple]:
    return [(h["interview_id"], h["start"], h["end"], h["text"]) for h in hits]


def measure(client, reader, asked: list[str], repeats: int) -> dict:
    def over_api(q: str) -> list[dict]:
        answer = client.get("/api/search", params={"q": q, "limit": LIMIT})
        answer.raise_for_status()
        return answer.json()

    def in_process(q: str) -> list[dict]:
        return [h.as_json() for h in reader.search(q, limit=LIMIT)]

    def floor(q: str) -> None:  # a plain-def endpoint that does nothing: routing, threadpool, HTTP, no search
        client.get("/api/jobs/none")

    samples: dict[str, list[float]] = {"api": [], "in_process": [], "floor": []}
    differ = set()
    for round_ in range(repeats):
        for n, question in enumerate(asked):
            order = [("api", over_api), ("in_process", in_process), ("floor", floor)]
            got = {}
            for name, call in order if (n + round_) % 2 == 0 else reversed(order):
                got[name], seconds = timed(call, question)
                samples[name].append(seconds * 1000)
            if shape(got["api"]) != shape(json.loads(json.dumps(got["in_process"]))):
                differ.add(question)
    return {"samples": samples, "differ": sorted(differ)}


def bench(archive: Path, asked: list[str], repeats: int) -> dict:
    import httpx

    server = api_server(archive, OUT / "bench_api-server.log")
    with server as (url, pid), httpx.Client(base_url=url, timeout=300) as client:
        print(f"warming up the server at {url} ...", flush=True)
        warm_api = {}
        for mode in WARMUP_ORDER:
            start = time.perf_counter()
            client.get("/api/search", params={"q": asked[0], "limit": LIMIT, "mode": mode}).raise_for_status()
            warm_api[mode] = round((time.perf_counter() - start) * 1000, 1)
        print("warming up the in-process searcher ...", flush=True)
        reader = searcher(archive=str(archive))
        warm_local = warm_up(reader, asked[0], LIMIT)
        print(f"measuring {len(asked)} questions x {repeats} rounds, each both ways ...", flush=True)
        measured = measure(client, reader, asked, repeats)
        server_rss = round(process_io(pid)["hwm_kb"] / 1024, 1)
    api, local, bare = (summary_ms(measured["samples"][k]) for k in ("api", "in_process", "floor"))
    return {"url": url, "interviews": len(reader.interviews()),
            "warmup_ms": {"api": warm_api, "in_process": warm_local}, "api": api, "in_process": local, "floor": bare,
            "ratio": {s: round(api[s] / local[s], 2) for s in ("p50", "p95")},
            "added_ms": {s: round(api[s] - local[s], 1) for s in ("p50", "p95")},
            "questions_whose_hits_differ": measured["differ"], "server_peak_rss_mib": server_rss}


def print_report(r: dict) -> None:
    print(f"\nonrecord HTTP API benchmark - {os.cpu_count()} CPUs, load average {r['load_before']} before, "
          f"{r['load_after']} after")
    print(f"archive: {r['archive']} ({r['interviews']} interviews); {r['queries']} questions x {r['repeats']} rounds, "
          f"limit {LIMIT}, hybrid")
    print(f"  {'':<22} {'p50':>8} {'p95':>8} {'mean':>8}")
    for label, key in (("GET /api/search", "api"), ("Searcher.search", "in_process"), ("HTTP floor", "floor")):
        s = r[key]
        print(f"  {label:<22} {s['p50']:>5.1f} ms {s['p95']:>5.1f} ms {s['mean']:>5.1f} ms")
    print(f"  API / in-process: {r['ratio']['p50']:.2f}x at p50, {r['ratio']['p95']:.2f}x at p95 "
          f"(+{r['added_ms']['p50']:.1f} ms, +{r['added_ms']['p95']:.1f} ms)")
    print(f"  questions whose hits differ between the two: {len(r['questions_whose_hits_differ'])}; "
          f"server peak RSS {r['server_peak_rss_mib']} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=CORPUS_ARCHIVE, help="archive folder")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the talkpython WebVTT folder")
    parser.add_argument("--queries", type=int, default=50, help="the first N eval questions (default 50)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the questions (default 3)")
    args = parser.parse_args()
    configure_environment()
    archive = args.archive.resolve()
    asked = [q["question"] for q in questions()][:args.queries]
    report: dict = {"archive": str(archive), "queries": len(asked), "repeats": args.repeats,
                    "load_before": load_average()}
    built = ensure_corpus_archive(archive, args.corpus)
    if built:
        report["built"] = built
    report |= bench(archive, asked, args.repeats)
    report["load_after"] = load_average()
    print_report(report)
    print(f"\nwritten: {write_report('bench_api', report)}")


if __name__ == "__main__":
    main()
