"""pubgraph: graph."""
