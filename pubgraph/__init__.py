"""pubgraph: PubMed into a Neo4j graph, graph-mined pairs, graph-trained embeddings."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pubgraph")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
