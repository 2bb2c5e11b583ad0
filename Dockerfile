# The pubgraph app image (CLI and dashboard); Neo4j runs in its own container.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY pubgraph ./pubgraph
COPY graph ./graph
COPY ingest ./ingest
COPY pairing ./pairing
COPY train ./train
COPY embeddings ./embeddings
COPY analysis ./analysis
COPY dashboard ./dashboard
RUN pip install .
EXPOSE 8050
CMD ["pubgraph", "versions"]
