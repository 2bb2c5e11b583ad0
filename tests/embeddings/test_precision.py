"""Encoding precision: CPU detection, the auto fallback, ids that keep precisions apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pubgraph.core.errors import ConfigError
from pubgraph.embeddings.embed import (
    Embedder,
    cpu_bf16_native,
    cpu_flags,
    precision_of,
    resolve_precision,
)

ZEN3 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\nmodel name\t: AMD EPYC\n"
ZEN4 = "processor\t: 0\nflags\t\t: avx2 avx512f avx512_vnni avx512_bf16\n"
SAPPHIRE = "flags\t: avx2 avx512f amx_bf16 amx_tile\n"


def test_cpu_flags_and_native_bf16() -> None:
    assert cpu_flags(ZEN3) == frozenset({"fpu", "sse2", "avx", "avx2", "fma"})
    assert not cpu_bf16_native(ZEN3)  # AVX2 only: bf16 would be emulated
    assert cpu_bf16_native(ZEN4)
    assert cpu_bf16_native(SAPPHIRE)
    assert cpu_flags("no flags here") == frozenset()
    assert isinstance(cpu_bf16_native(), bool)  # this machine, whatever it is


def test_auto_falls_back_to_fp32_without_native_bf16() -> None:
    assert resolve_precision("auto", "cpu", native=False) == "fp32"
    assert resolve_precision("auto", "cpu", native=True) == "bf16"
    assert resolve_precision("auto", "cuda:0", native=True) == "fp32"
    assert resolve_precision("fp32", "cpu", native=True) == "fp32"
    assert resolve_precision("bf16", "cpu", native=False) == "bf16"  # asked for: obeyed
    with pytest.raises(ConfigError, match="unknown precision 'fp16'"):
        resolve_precision("fp16", "cpu")


def test_precision_of_model_ids() -> None:
    assert precision_of("sentence-transformers/all-MiniLM-L6-v2@0123456789ab") == "fp32"
    assert precision_of("sentence-transformers/all-MiniLM-L6-v2@0123456789ab/bf16") == "bf16"
    assert precision_of("model@abc/fp32") == "fp32"
    assert precision_of("plain-name") == "fp32"


def test_bf16_vectors_have_their_own_id_and_stay_close(tiny_model_dir: Path) -> None:
    fp32 = Embedder.load(tiny_model_dir, device="cpu", precision="fp32")
    bf16 = Embedder.load(tiny_model_dir, device="cpu", precision="bf16")
    assert fp32.info.precision == "fp32" and "/" not in fp32.info.id.split("@")[1]
    assert bf16.info.id == fp32.info.id + "/bf16"  # never mixed in one index
    assert bf16.info.version == fp32.info.version
    texts = ["insulin resistance in muscle", "amyloid beta and tau", "a", "kinase " * 30]
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (4, fp32.info.dimension)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cos = (a * b).sum(1)
    assert cos.min() > 0.98, cos
    assert fp32.encode([]).shape == (0, fp32.info.dimension)
