"""pubgraph: train."""
