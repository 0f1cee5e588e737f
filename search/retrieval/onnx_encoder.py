"""Run an exported sentence-transformers model (Transformer -> mean pooling -> normalize) with ONNX Runtime
and `tokenizers` alone. Same graph and same vectors as sentence-transformers' ONNX backend, without importing
torch: that import is most of a search command's cold start."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

MANIFEST = "onrecord-encoder.json"
TOKENS_PER_RUN = 2048  # padded tokens in one ONNX run; bounds its activation memory


def write_manifest(model, folder: Path) -> bool:
    """Record what the light encoder needs, if the model is the plain mean-pooled, normalized kind."""
    kinds = [type(module).__name__ for module in model]
    pooling = _pooling_mode(model[1]) if len(kinds) > 1 else ""
    if kinds != ["Transformer", "Pooling", "Normalize"] or pooling != "mean":
        return False
    (folder / MANIFEST).write_text(json.dumps({"max_seq_length": int(model.max_seq_length)}))
    return True


def _pooling_mode(pooling) -> str:
    mode = getattr(pooling, "pooling_mode", None)  # sentence-transformers >= 5.x
    if mode is None and hasattr(pooling, "get_pooling_mode_str"):
        mode = pooling.get_pooling_mode_str()
    return {"mean_tokens": "mean"}.get(str(mode), str(mode))


class OnnxEncoder:
    def __init__(self, folder: Path, threads: int = 0):
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = json.loads((folder / MANIFEST).read_text())
        self.max_seq_length = int(manifest["max_seq_length"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        # Counting gets a tokenizer of its own: toggling truncation on the shared one, even briefly, would
        # hand a concurrent search (the app's ingest worker shares this encoder) untruncated encodings.
        self._counter = Tokenizer.from_str(self._tokenizer.to_str())
        self._counter.no_truncation()
        self._tokenizer.enable_truncation(self.max_seq_length)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.enable_mem_pattern = False  # a planned block per input shape; shapes vary with every batch
        self._session = onnxruntime.InferenceSession(str(folder / "onnx" / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    @staticmethod
    def available(folder: Path) -> bool:
        return (folder / MANIFEST).exists() and (folder / "onnx" / "model.onnx").exists()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")  # similar lengths pad least
        out = np.zeros((len(texts), 0), dtype=np.float32)
        start = 0
        while start < len(order):
            # Attention activations grow with rows x width^2: long texts go fewer to a run (8 at 256 tokens).
            width = len(encodings[order[start]].ids)  # the longest left, as sorted
            size = max(1, min(batch_size, TOKENS_PER_RUN // max(width, 1)))
            rows = order[start:start + size]
            start += size
            vectors = self._run([encodings[i] for i in rows])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out

    def _run(self, batch) -> np.ndarray:
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, e in enumerate(batch):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
