#!/usr/bin/env bash
# The main job, end to end on the embedded defaults: `pubgraph demo` (see pubgraph/demo.py)
# once the environment exists. Arguments pass through, e.g.
#   ./scripts/demo.sh --size tiny --no-serve      (or: make demo DEMO_ARGS="--size full")
# Every stage is resumable: a second run skips what is done and goes straight to the dashboard.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$root/scripts/venv.sh")"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$root"
exec "$venv/bin/pubgraph" demo "$@"
