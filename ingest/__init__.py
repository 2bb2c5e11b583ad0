"""pubgraph: ingest."""
