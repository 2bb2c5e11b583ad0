"""``pubgraph gnn train``: a GraphSAGE link predictor against text-only cosine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

gnn_app = typer.Typer(help="Graph neural network over the article graph (GraphSAGE).",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``gnn`` group to the root app."""
    app.add_typer(gnn_app, name="gnn")


@gnn_app.command("train")
def gnn_train_command(
    pairs: Annotated[
        Path, typer.Option("--pairs", help="Pairing run directory (splits.parquet, and "
                                            "pairs.parquet for --mesh pairs).")
    ],
    features: Annotated[
        str, typer.Option(help="'neo4j' (Article.embedding) or a pmid,vector Parquet file "
                               "(`pubgraph embeddings export`).")
    ] = "neo4j",
    epochs: Annotated[int, typer.Option(help="Training epochs (full-graph passes).")] = 50,
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default runs/gnn/<pairs run>).")
    ] = None,
    write_back: Annotated[
        bool, typer.Option("--write-back", help="Write Article.graph_embedding when the GNN "
                                                "beats text cosine on the test AUC.")
    ] = False,
    mesh: Annotated[
        str, typer.Option(help="Shared-MeSH edges: pairs (the run's shared_mesh pairs), "
                               "cypher (IDF-capped query) or none.")
    ] = "pairs",
    targets: Annotated[
        str, typer.Option(help="Links to predict: cites, or cites+mesh (also the shared-MeSH "
                               "edges, for corpora whose articles seldom cite each other).")
    ] = "cites",
    stubs: Annotated[
        bool, typer.Option(help="Include stubs cited by >= 2 text articles as nodes.")
    ] = True,
    limit: Annotated[
        int | None, typer.Option(help="Use only the first N text articles (pmid order).")
    ] = None,
    hidden: Annotated[int, typer.Option(help="Hidden layer width.")] = 128,
    dim: Annotated[int, typer.Option(help="Output embedding dimension.")] = 64,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 0.01,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Target edges per step (one full-graph forward each).")
    ] = 256,
    candidates: Annotated[
        int, typer.Option(help="Random test articles each cited article is ranked among.")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Seed of training, negatives and candidates.")] = 13,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
    progress: Annotated[bool, typer.Option(help="Show the epoch progress bar.")] = True,
) -> None:
    """Train a 2-layer GraphSAGE link predictor on training-split CITES edges and compare it
    with the cosine of the input text embeddings on test-split CITES edges (AUC, AP, MRR,
    hits@10). Writes comparison.md/.json, model.pt and graph_embeddings.parquet; with
    --write-back also Article.graph_embedding (only if the GNN wins). See docs/gnn.md.

    Example: pubgraph gnn train --pairs runs/pairs --targets cites+mesh --epochs 10
    """
    from pubgraph.core.contracts import read_splits
    from pubgraph.core.settings import get_settings
    from pubgraph.graph.db import connect
    from pubgraph.train.gnn import GnnConfig, run_gnn

    cfg = GnnConfig(epochs=epochs, hidden=hidden, out_dim=dim, lr=lr, batch_size=batch_size,
                    seed=seed, stubs=stubs,
                    mesh=mesh, targets=targets, candidates=candidates, limit=limit, threads=threads)
    cfg.validate()
    read_splits(pairs)  # fail on a bad run directory before connecting
    target = out or Path("runs") / "gnn" / pairs.resolve().name
    driver = connect(get_settings())
    try:
        result = run_gnn(driver, pairs, target, cfg, features=features, write_back=write_back,
                         progress=progress, log=typer.echo)
    finally:
        driver.close()
    typer.echo((result.out_dir / "comparison.md").read_text(encoding="utf-8"))
    if write_back:
        typer.echo(f"Article.graph_embedding written for {result.wrote_back} articles")
    typer.echo(f"done in {result.seconds:.1f}s -> {result.out_dir}")
