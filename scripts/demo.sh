#!/usr/bin/env bash
# The main job, end to end on the embedded defaults: local Neo4j, a real sample corpus
# obtained without NCBI, the offline base model. Each stage is a plain `pubgraph` command;
# re-running is safe (every stage is idempotent or resumes).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$root/scripts/venv.sh")"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
pg="$venv/bin/pubgraph"
cd "$root"
out="${PUBGRAPH_DEMO_DIR:-runs/demo}"
mkdir -p "$out"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Neo4j"
"$pg" neo4j start
"$pg" graph init

step "2. sample corpus (PubMed baseline + update file)"
mapfile -t files < <("$pg" ingest sample --kind pubmed)
printf '%s\n' "${files[@]}"

step "3. ingest: XML -> Parquet records"
"$pg" ingest files "${files[@]}" --out "$out/records.parquet"

step "4. graph: load records (and the MeSH hierarchy when available)"
"$pg" graph load "$out/records.parquet"
mapfile -t tree < <("$pg" ingest sample --kind mesh-tree)
if [ "${#tree[@]}" -gt 0 ] && [ -n "${tree[0]}" ]; then
  "$pg" graph load-mesh "${tree[0]}"
fi
"$pg" graph stats

step "5. pairing: positives and negatives from pubgraph.graph queries (article-level splits)"
"$pg" pairs run --seed "${PUBGRAPH_DEMO_SEED:-13}" --out "$out/pairs"
"$pg" pairs export "$out/pairs" --format all

step "6. train: contrastive fine-tuning of the offline base model on the graph pairs"
# A full pass over every positive pair takes hours on a CPU; the demo trains a bounded
# number of steps (PUBGRAPH_DEMO_TRAIN_STEPS) and `--resume` continues a stopped run.
train_args=(--config configs/train.yaml --train-file "$out/pairs/pairs.parquet"
            --output-dir "$out/model" --max-steps "${PUBGRAPH_DEMO_TRAIN_STEPS:-30}"
            --final-eval none)
if [ -f "$out/model/pubgraph_train.json" ]; then
  echo "model already trained in $out/model (delete it to retrain)"
elif compgen -G "$out/model/checkpoints/checkpoint-*" >/dev/null; then
  "$pg" train "${train_args[@]}" --resume
else
  "$pg" train "${train_args[@]}"
fi

step "7. evaluate: fine-tuned vs base on held-out graph pairs, citations, retrieval, BIOSSES, PubMedQA"
"$pg" eval "$out/model" --vs sentence-transformers/all-MiniLM-L6-v2 --pairs "$out/pairs" \
  --out "$out/eval"

step "8. embeddings: vectors on Article nodes + vector index, then queries that use them"
# Encoding all ~51k articles takes about an hour on 2 cores; the demo encodes a bounded
# number (PUBGRAPH_DEMO_EMBED_LIMIT, 0 = all). A re-run encodes only what is still missing.
embed_limit="${PUBGRAPH_DEMO_EMBED_LIMIT:-2000}"
embed_args=(--model "$out/model" --no-progress)
[ "$embed_limit" != "0" ] && embed_args+=(--limit "$embed_limit")
"$pg" embed "${embed_args[@]}"
"$pg" search text "insulin resistance in skeletal muscle" --top 5
"$pg" embeddings export --out "$out/embeddings.parquet"
