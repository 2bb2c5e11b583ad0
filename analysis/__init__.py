"""pubgraph: analysis."""
