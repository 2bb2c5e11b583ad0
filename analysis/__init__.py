"""Clustering, topic labels, trends and graph structure, written back to Neo4j."""
