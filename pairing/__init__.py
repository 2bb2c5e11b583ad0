"""pubgraph: pairing."""
