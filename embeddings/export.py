"""Export the stored embeddings alone to Parquet (``pmid``, ``vector`` as list<float32>).

Pages through the articles in pmid order (short read transactions) and streams each page
into a ``ParquetWriter``, so memory stays flat on large graphs. The model ids and the
dimension are written to the file's key-value metadata.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pubgraph.core.errors import InputError
from pubgraph.embeddings import queries as q
from pubgraph.graph.db import GraphDB, run_read

EXPORT_PAGE = 5000


@dataclass
class ExportSummary:
    path: Path
    rows: int = 0
    dimension: int | None = None
    models: list[str] = field(default_factory=list)
    seconds: float = 0.0


def export_embeddings(
    driver: GraphDB,
    out: str | Path,
    *,
    model_id: str | None = None,
    page: int = EXPORT_PAGE,
    on_progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write every stored vector (optionally only ``model_id``'s) to a Parquet file."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(out)
    if path.parent and not path.parent.exists():
        raise InputError("output directory does not exist", file=str(path))
    schema = pa.schema([("pmid", pa.string()), ("vector", pa.list_(pa.float32()))])
    start = time.perf_counter()
    summary = ExportSummary(path=path)
    models: dict[str, None] = {}
    tmp = path.with_name(path.name + ".partial")
    writer = pq.ParquetWriter(tmp, schema)
    try:
        after = ""
        while True:
            params = {"after": after, "page": page}
            rows = run_read(driver, q.EXPORT_PAGE, params)
            if not rows:
                break
            after = rows[-1]["pmid"]
            keep = [r for r in rows if model_id is None or r["model"] == model_id]
            if keep:
                dims = {len(r["vector"]) for r in keep}
                if summary.dimension is not None:
                    dims.add(summary.dimension)
                if len(dims) > 1:
                    raise InputError(
                        f"stored vectors have mixed dimensions {sorted(dims)}: export one model "
                        "with --model-id",
                        field="embedding",
                    )
                summary.dimension = dims.pop()
                for r in keep:
                    models.setdefault(str(r["model"]), None)
                flat = np.asarray([r["vector"] for r in keep], dtype=np.float32).reshape(-1)
                offsets = np.arange(0, len(keep) + 1, dtype=np.int32) * summary.dimension
                vectors = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
                table = pa.Table.from_arrays(
                    [pa.array([r["pmid"] for r in keep], pa.string()), vectors], schema=schema
                )
                writer.write_table(table)
                summary.rows += len(keep)
                if on_progress is not None:
                    on_progress(len(keep))
            if len(rows) < page:
                break
        summary.models = list(models)
        writer.add_key_value_metadata(
            {
                "pubgraph.core.models": json.dumps(summary.models),
                "pubgraph.dimension": str(summary.dimension or 0),
            }
        )
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    tmp.replace(path)
    summary.seconds = time.perf_counter() - start
    return summary
