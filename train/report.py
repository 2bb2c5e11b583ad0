"""Tables, loss curves and model cards."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIP_METRICS = ("n", "seconds")


@dataclass(frozen=True)
class Row:
    """One line of a comparison: a task's metric for the base and the fine-tuned model."""

    task: str
    metric: str
    base: float | None
    tuned: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.tuned is None:
            return None
        if math.isnan(self.base) or math.isnan(self.tuned):
            return None
        return self.tuned - self.base


def comparison_rows(
    base: dict[str, dict[str, float]] | None, tuned: dict[str, dict[str, float]]
) -> list[Row]:
    """Rows for every (task, metric) of either result set, tasks in first-seen order."""
    base = base or {}
    rows = []
    for task in dict.fromkeys([*tuned, *base]):
        b = base.get(task, {})
        t = tuned.get(task, {})
        for metric in dict.fromkeys([*t, *b]):
            if metric in SKIP_METRICS:
                continue
            rows.append(Row(task, metric, b.get(metric), t.get(metric)))
    return rows


def display_name(name: str) -> str:
    """A model's name for table headers: a local directory's folder name, else the id."""
    path = Path(name)
    return path.name if path.is_dir() else name


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def comparison_markdown(
    rows: list[Row], base_name: str | None, tuned_name: str, sizes: dict[str, int] | None = None
) -> str:
    """A Markdown table: task | metric | base | fine-tuned | Δ (only the model column when
    there is no base)."""
    sizes = sizes or {}
    if base_name is None:
        lines = [f"| task | metric | {tuned_name} |", "|---|---|---:|"]
        for r in rows:
            lines.append(f"| {_task_label(r.task, sizes)} | {r.metric} | {_fmt(r.tuned)} |")
        return "\n".join(lines) + "\n"
    lines = [
        f"| task | metric | {base_name} | {tuned_name} | Δ |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {_task_label(r.task, sizes)} | {r.metric} | {_fmt(r.base)} | {_fmt(r.tuned)} | "
            f"{_fmt(r.delta, signed=True)} |"
        )
    return "\n".join(lines) + "\n"


def _task_label(task: str, sizes: dict[str, int]) -> str:
    n = sizes.get(task)
    return f"{task} (n={n})" if n else task


def comparison_json(
    rows: list[Row], base_name: str | None, tuned_name: str,
    base: dict[str, dict[str, float]] | None, tuned: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """The same comparison as JSON: model names, full results, and the rows with deltas."""
    return {
        "base": base_name,
        "model": tuned_name,
        "results": {"base": base, "model": tuned},
        "rows": [
            {"task": r.task, "metric": r.metric, "base": _num(r.base), "model": _num(r.tuned),
             "delta": _num(r.delta)}
            for r in rows
        ],
    }


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (NaN as null)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(_clean(data), indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return p


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


# -- loss curves ----------------------------------------------------------------------------


def loss_rows(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per logged step: step, epoch, loss (train), eval_loss, and eval metrics."""
    by_step: dict[int, dict[str, Any]] = {}
    for entry in log_history:
        step = entry.get("step")
        if step is None:
            continue
        row = by_step.setdefault(int(step), {"step": int(step)})
        if "epoch" in entry:
            row["epoch"] = entry["epoch"]
        for key, value in entry.items():
            if key in ("step", "epoch") or not isinstance(value, int | float):
                continue
            if key == "loss" or key.startswith("eval_") or key in ("learning_rate", "grad_norm"):
                row[key] = value
    return [by_step[s] for s in sorted(by_step)]


def write_loss_curve(out_dir: str | Path, log_history: list[dict[str, Any]]) -> tuple[Path, Path]:
    """``loss_curve.csv`` and ``loss_curve.png`` (train and eval loss against step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    rows = loss_rows(log_history)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    csv_path = out / "loss_curve.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys or ["step"])
        writer.writeheader()
        writer.writerows(rows)
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, style in (("loss", "-"), ("eval_loss", "o--")):
        pts = [(r["step"], r[key]) for r in rows if key in r]
        if pts:
            ax.plot(*zip(*pts, strict=True), style, label="train loss" if key == "loss" else key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("training loss")
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    png_path = out / "loss_curve.png"
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return csv_path, png_path


# -- model card -----------------------------------------------------------------------------


# The licence a fine-tuned model inherits from its base (the Hugging Face card's ``license``).
BASE_LICENSES = {
    "sentence-transformers/all-MiniLM-L6-v2": "apache-2.0",
    "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext": "mit",
    "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract-fulltext": "mit",
    "pubgraph/tiny-bert": "mit",
}
# The hub's task type of each evaluation task (model-index).
TASK_TYPES = {
    "pairs": ("sentence-similarity", "Held-out graph pairs"),
    "biosses": ("sentence-similarity", "BIOSSES"),
    "pubmedqa": ("question-answering", "PubMedQA"),
    "citations": ("information-retrieval", "Citation prediction"),
    "title_abstract": ("information-retrieval", "Title to abstract retrieval"),
}


def portable_path(value: Any) -> str:
    """A path fit for a card that leaves the machine: relative to the working directory
    when under it, else only its last two parts (a run id and a file name); never the
    machine's absolute path. Non-paths (hub ids) pass through."""
    text = str(value)
    path = Path(text)
    if not path.is_absolute():
        return text
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(Path(*path.parts[-2:])) if len(path.parts) > 2 else path.name


def _hub_id(name: str) -> str | None:
    """``name`` when it looks like a hub model id (not a local path)."""
    if not name or Path(name).is_absolute() or name.startswith((".", "~")) or Path(name).exists():
        return None
    parts = name.split("/")
    # "owner/name", or a legacy one-part id such as "bert-base-uncased"
    return name if len(parts) <= 2 and all(parts) else None


def card_metadata(
    meta: dict[str, Any], results: dict[str, dict[str, float]] | None
) -> dict[str, Any]:
    """The card's front matter: what the Hugging Face hub and sentence-transformers read
    (library, pipeline, tags, language, license, base_model, datasets, model-index)."""
    cfg = meta.get("config", {})
    base = str(cfg.get("base_model", ""))
    hub_base = _hub_id(base)
    name = Path(str(meta.get("output_dir", "model"))).name
    data: dict[str, Any] = {
        "language": ["en"],
        "license": BASE_LICENSES.get(base, "other"),
        "library_name": "sentence-transformers",
        "pipeline_tag": "sentence-similarity",
        "tags": ["sentence-transformers", "sentence-similarity", "feature-extraction",
                 "pubgraph", "biomedical"],
    }
    if hub_base:
        data["base_model"] = hub_base
    data["datasets"] = ["ncbi/pubmed"]
    entries = []
    for task, metrics in (results or {}).items():
        kind, label = TASK_TYPES.get(task.split(":", 1)[0], ("sentence-similarity", task))
        label = label if task in TASK_TYPES else task
        values = [
            {"type": metric, "value": round(float(v), 4), "name": f"{label} {metric}"}
            for metric, v in metrics.items()
            if metric not in SKIP_METRICS and isinstance(v, int | float)
            and not (isinstance(v, float) and math.isnan(v))
        ]
        if values:
            entries.append({"task": {"type": kind, "name": label},
                            "dataset": {"name": label, "type": task}, "metrics": values})
    if entries:
        data["model-index"] = [{"name": name, "results": entries}]
    return data


def model_card(
    meta: dict[str, Any], comparison_md: str | None,
    results: dict[str, dict[str, float]] | None = None,
) -> str:
    """README.md for a trained model: Hugging Face front matter (:func:`card_metadata`),
    what it was trained on, results. Paths are portable (:func:`portable_path`)."""
    import yaml

    cfg = meta.get("config", {})
    base = portable_path(cfg.get("base_model", "?"))
    name = Path(str(meta.get("output_dir", "model"))).name
    front = yaml.safe_dump(card_metadata(meta, results), sort_keys=False, allow_unicode=True)
    lines = [
        "---",
        front.rstrip(),
        "---",
        "",
        f"# {name}",
        "",
        f"A sentence-transformers model fine-tuned by pubgraph from `{base}` with "
        f"`{cfg.get('loss')}` loss on pairs from `{portable_path(cfg.get('train_file'))}`.",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        f"model = SentenceTransformer({portable_path(meta.get('output_dir', '.'))!r})",
        "```",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    facts = {
        "pair file": portable_path(cfg.get("train_file")),
        "PairRun id": meta.get("pair_run_id") or "–",
        "training examples": meta.get("train_examples"),
        "columns": ", ".join(meta.get("train_columns", [])),
        "loss": cfg.get("loss"),
        "epochs / max steps": f"{cfg.get('epochs')} / {cfg.get('max_steps')}",
        "steps run": meta.get("global_step"),
        "batch size": cfg.get("batch_size"),
        "learning rate": cfg.get("learning_rate"),
        "warmup steps": cfg.get("warmup_steps"),
        "max_seq_length": cfg.get("max_seq_length"),
        "seed": cfg.get("seed"),
        "device / precision": f"{meta.get('device')} / {meta.get('precision')}",
        "training time": f"{meta.get('train_seconds', 0):.0f} s",
    }
    merge = meta.get("merge")
    if isinstance(merge, dict):
        merge_base = portable_path(cfg.get("base_model") or merge["base"])
        facts["weights"] = (f"WiSE-FT: {1 - merge['alpha']:g} × base ({merge_base}) + "
                            f"{merge['alpha']:g} × fine-tuned")
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    lines += ["", "Loss curve: `loss_curve.csv`, `loss_curve.png`. Full config: "
              "`train_config.yaml`.", ""]
    if comparison_md:
        lines += ["## Results", "", comparison_md.rstrip(), ""]
        notes = meta.get("eval_notes")
        if notes:
            lines += [notes, ""]
    return "\n".join(lines)
