"""Benchmark the embedding backends: ONNX Runtime (onrecord's default on CPU) against torch, same model.

The texts are chunk-sized windows (WORDS_PER_TEXT words, about the 128 tokens a chunk holds) cut from the
bundled samples' scripts (samples/scripts.json), --texts of them. Each backend runs in a fresh process, as
`onrecord` would, alternating onnx, torch, onnx, torch, ... (--runs each): the model is loaded (timed apart),
one batch is embedded as a warm-up, then all the texts are embedded and timed. Reported per backend: median
load time and chunks per second, the speed ratio onnx / torch, and how alike the two backends' vectors are
(the lowest cosine similarity between the two vectors of any text: "the same vectors" means >= 0.999).

The ONNX export of the model is made once, in the benchmark's cache, before the timed runs.

Run from the repository root, venv active:
    python benchmarks/bench_embed.py [--texts 512] [--runs 5]
The report is printed and written as JSON to benchmarks/out/bench_embed.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness import CACHE, ROOT, configure_environment, last_json, run, write_report

WORDS_PER_TEXT = 90
SAME_VECTORS = 0.999

# One backend in a process of its own: load, warm up, embed everything; times and vectors out.
CHILD = """
import json, sys, time
from pathlib import Path
import numpy as np
from onrecord.search.retrieval.embedder import SentenceTransformerEmbedder
backend, texts_file, vectors_file, cache = sys.argv[1:5]
texts = json.loads(Path(texts_file).read_text())
began = time.perf_counter()
embedder = SentenceTransformerEmbedder(backend=backend, cache_dir=Path(cache) / "onrecord", device="cpu")
embedder.load()
loaded = time.perf_counter()
embedder.embed(texts[:32])
warm = time.perf_counter()
vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
done = time.perf_counter()
np.save(vectors_file, vectors)
print(json.dumps({"backend": backend, "model": type(embedder.model).__name__, "load_s": loaded - began,
                  "embed_s": done - warm, "texts": len(texts)}))
"""


def chunk_texts(count: int) -> list[str]:
    """`count` overlapping windows of the samples' spoken words, each about one chunk long."""
    scripts = json.loads((ROOT / "samples" / "scripts.json").read_text())
    said = [w for turns in scripts.values() for turn in turns for w in turn["text"].split()]
    step = max(1, (len(said) - WORDS_PER_TEXT) // max(1, count))
    texts = []
    for n in range(count):
        at = (n * step) % max(1, len(said) - WORDS_PER_TEXT)
        texts.append(" ".join(said[at:at + WORDS_PER_TEXT]) + f" (part {n})")  # distinct, as chunks are
    return texts


def run_backend(backend: str, texts_file: Path, vectors_file: Path) -> dict:
    cmd = [sys.executable, "-c", CHILD, backend, str(texts_file), str(vectors_file), str(CACHE)]
    return last_json(run(cmd, timeout=1800)[1].stdout)


def lowest_cosine(a_file: Path, b_file: Path) -> float:
    import numpy as np

    a, b = np.load(a_file), np.load(b_file)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def measure(texts: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        texts_file = folder / "texts.json"
        texts_file.write_text(json.dumps(chunk_texts(texts)))
        run_backend("onnx", texts_file, folder / "export.npy")  # the one-time ONNX export, not timed
        results: dict[str, list[dict]] = {"onnx": [], "torch": []}
        for _ in range(runs):
            for backend in results:
                results[backend].append(run_backend(backend, texts_file, folder / f"{backend}.npy"))
        similarity = lowest_cosine(folder / "onnx.npy", folder / "torch.npy")
    return {"texts": texts, "runs": runs, "results": results, "lowest_cosine": similarity}


def summarise(report: dict) -> dict:
    speed = {b: statistics.median(r["texts"] / r["embed_s"] for r in runs) for b, runs in report["results"].items()}
    load = {b: statistics.median(r["load_s"] for r in runs) for b, runs in report["results"].items()}
    # Each round ran onnx then torch back to back: their ratio shows how much the machine's load moved it.
    rounds = [b["embed_s"] / a["embed_s"] for a, b in zip(report["results"]["onnx"], report["results"]["torch"])]
    return {"chunks_per_s": speed, "load_s": load, "speedup": speed["onnx"] / speed["torch"], "rounds": rounds,
            "models": {b: runs[0]["model"] for b, runs in report["results"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512, help="chunk-sized texts to embed per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per backend, alternating")
    args = parser.parse_args()
    configure_environment()
    report = measure(args.texts, args.runs)
    report["summary"] = summary = summarise(report)
    write_report("bench_embed", report)
    print(f"{args.texts} chunk-sized texts, {args.runs} runs per backend, each in a fresh process")
    print(f"{'backend':8} {'encoder':28} {'load s':>7} {'chunks/s':>9}")
    for backend in ("onnx", "torch"):
        print(f"{backend:8} {summary['models'][backend]:28} {summary['load_s'][backend]:7.2f} "
              f"{summary['chunks_per_s'][backend]:9.1f}")
    same = "same vectors" if report["lowest_cosine"] >= SAME_VECTORS else "VECTORS DIFFER"
    print(f"onnx / torch: {summary['speedup']:.2f}x the chunks per second; lowest cosine between the two "
          f"backends' vectors {report['lowest_cosine']:.5f} ({same})")
    print("onnx / torch in each round: " + ", ".join(f"{r:.2f}x" for r in summary["rounds"]))


if __name__ == "__main__":
    main()
