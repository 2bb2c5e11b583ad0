"""pubgraph: dashboard."""
