"""Benchmark of pubgraph's training and evaluation on CPU/GPU.

Prints (medians of --reps repetitions):
* encoding throughput of the base model at max_seq_length 256 on PubMedQA long answers
  (the baseline);
* training throughput (pairs/s, CosineSimilarityLoss and MultipleNegativesRankingLoss,
  batch 8) on the seed pairs, as a ratio to the encoding throughput;
* with --models DIR...: BIOSSES Spearman and val_small AUC of each model as a ratio to
  the base model's, measured in the same run.

    python bench/bench_train.py [--reps 3] [--docs 96] [--steps 4] [--models runs/train/x ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--docs", type=int, default=96, help="long answers to encode")
    parser.add_argument("--steps", type=int, default=4, help="training steps per repetition")
    parser.add_argument("--models", nargs="*", default=[])
    args = parser.parse_args()

    from pubgraph.core.settings import shared_data_dir
    from pubgraph.train import evaluate
    from pubgraph.train.benchmarks import read_pubmedqa
    from pubgraph.train.config import load_config
    from pubgraph.train.models import load_model
    from pubgraph.train.trainer import train

    shared = shared_data_dir()
    base_name = "sentence-transformers/all-MiniLM-L6-v2"
    base = load_model(base_name, device="cpu", max_seq_length=256)
    answers = list(read_pubmedqa(shared / "benchmarks/pubmedqa/ori_pqal.json").corpus.values())
    docs = answers[: args.docs]
    enc = median_time(lambda: evaluate.encode(base, docs), args.reps)
    enc_rate = len(docs) / enc
    print(
        f"encode  all-MiniLM-L6-v2 @256: {enc_rate:6.1f} docs/s "
        f"(median of {args.reps}, {len(docs)} docs)  [baseline]"
    )

    seed_pairs = shared / "seed_pairs" / "train_small.csv"
    for loss in ("cosine", "mnrl"):

        def run(loss: str = loss) -> None:
            with tempfile.TemporaryDirectory() as tmp:
                cfg = load_config(
                    None,
                    train_file=str(seed_pairs),
                    output_dir=tmp,
                    base_model=base_name,
                    loss=loss,
                    batch_size=8,
                    max_steps=args.steps,
                    warmup_steps=0,
                    final_eval=[],
                    compare_base=False,
                    save_steps=10_000,
                    logging_steps=1,
                    hard_negatives=False,
                )
                train(cfg, progress=False, log=lambda _: None)

        secs = median_time(run, args.reps)
        rate = args.steps * 8 / secs
        print(
            f"train   {loss:7s} batch 8 @256:   {rate:6.1f} pairs/s "
            f"(median of {args.reps} x {args.steps} steps, incl. load/save)  "
            f"ratio to encode {rate / enc_rate:.3f}"
        )

    if args.models:
        tasks = [
            evaluate.biosses_task(shared / "benchmarks/biosses"),
            evaluate.csv_task(shared / "seed_pairs/val_small.csv"),
        ]
        ref = evaluate.run_tasks(base, tasks)
        print(
            f"quality base: biosses spearman {ref['biosses']['spearman']:.4f}, "
            f"val_small auc {ref['csv:val_small']['auc']:.4f}"
        )
        for path in args.models:
            got = evaluate.run_tasks(load_model(path, device="cpu", max_seq_length=256), tasks)
            b = got["biosses"]["spearman"]
            v = got["csv:val_small"]["auc"]
            print(
                f"quality {Path(path).name}: biosses spearman {b:.4f} "
                f"(ratio {b / ref['biosses']['spearman']:.3f}), val_small auc {v:.4f} "
                f"(ratio {v / ref['csv:val_small']['auc']:.3f})"
            )


if __name__ == "__main__":
    main()
