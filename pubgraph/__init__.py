"""pubgraph: pubgraph."""
