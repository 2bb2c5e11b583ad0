#!/usr/bin/env bash
# Issue #16 part 4 (docs/benchmarks.md, "Part 4"): in-split hard negatives + mixed title->abstract
# pairs, 3 seeds, then base vs fine-tuned on whole-corpus tasks. Needs a graph with article
# vectors (the Alzheimer bench graph: PUBGRAPH_DATA_DIR + PUBGRAPH_NEO4J_PORT + NEO4J_PASSWORD
# of its local Neo4j) and BENCH_DIR for the pair run, the models and the results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
V="$(scripts/venv.sh)"
: "${BENCH_DIR:?set BENCH_DIR (a folder for the pair run, the models and the results)}"
: "${PUBGRAPH_NEO4J_PORT:?set PUBGRAPH_NEO4J_PORT (the local Neo4j of the graph)}"
: "${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
STEPS=${STEPS:-40}
(cat configs/train.yaml; echo "title_abstract_pairs: 1000") > "$BENCH_DIR/train_part4.yaml"
$V/bin/pubgraph neo4j start
date; echo "== pairs (in-split vector hard negatives)"
[ -f $BENCH_DIR/pairs_v2/pairs.parquet ] || $V/bin/pubgraph pairs run --seed 13 --out $BENCH_DIR/pairs_v2 --no-progress
[ -f $BENCH_DIR/pairs_v2/train_triplets.parquet ] || $V/bin/pubgraph pairs export $BENCH_DIR/pairs_v2 --format all
for s in 1 2 3; do
  date; echo "== train seed $s ($STEPS steps)"
  [ -f $BENCH_DIR/ft_s$s/model.safetensors ] || $V/bin/pubgraph train --config $BENCH_DIR/train_part4.yaml \
     --train-file $BENCH_DIR/pairs_v2/pairs.parquet --output-dir $BENCH_DIR/ft_s$s \
     --max-steps $STEPS --seed $s --final-eval none --no-progress
done
date; echo "== evaluate"
$V/bin/python bench/bench_finetune_effect.py --uri bolt://127.0.0.1:$PUBGRAPH_NEO4J_PORT --password "$NEO4J_PASSWORD" \
  --pairs $BENCH_DIR/pairs_v2 \
  --models base=sentence-transformers/all-MiniLM-L6-v2,s1=$BENCH_DIR/ft_s1,s2=$BENCH_DIR/ft_s2,s3=$BENCH_DIR/ft_s3 \
  --json $BENCH_DIR/finetune_effect.json
date; echo "== done"
