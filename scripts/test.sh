#!/usr/bin/env bash
# Sets up the cached environment and runs the test suite. Graph tests use NEO4J_URI when
# set, else start the real local Neo4j (from Maven Central jars) for the session.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$root/scripts/venv.sh")"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
cd "$root"
exec "$venv/bin/python" -m pytest "$@"
