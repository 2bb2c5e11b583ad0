#!/usr/bin/env bash
# Creates (once) and prints the path of the project's virtual environment.
# The environment lives outside the clone, keyed by a hash of the dependency spec
# in pyproject.toml, so a second run or a fresh clone with the same spec reuses it.
# The project itself is (re)installed editable and without deps on every call so the
# cached environment always imports this clone, not the one that first built it.
#
# Extra package index (e.g. the CPU-only torch wheels, ~200 MB instead of ~4 GB of CUDA):
#   PUBGRAPH_PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make demo
# pip's own PIP_EXTRA_INDEX_URL / PIP_INDEX_URL are passed through as well. A set extra
# index is part of the environment's key, so a CPU-only environment is kept apart.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PUBGRAPH_PYTHON:-python3}"
spec="$("$py" - "$root/pyproject.toml" <<'PY'
import sys, tomllib, json
data = tomllib.load(open(sys.argv[1], "rb"))
p = data["project"]
deps = sorted(p["dependencies"]) + sorted(p.get("optional-dependencies", {}).get("dev", []))
print(json.dumps({"python": p["requires-python"], "deps": deps}))
PY
)"
extra_index="${PUBGRAPH_PIP_EXTRA_INDEX_URL:-}"
pip_index_args=()
if [ -n "$extra_index" ]; then
  pip_index_args=(--extra-index-url "$extra_index")
fi
key="$(printf '%s' "$spec" "$("$py" -c 'import sys;print(sys.version_info[:2])')" "$extra_index" | sha256sum | cut -c1-16)"
cache="${PUBGRAPH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pubgraph}"
venv="$cache/venv-$key"
if [ ! -f "$venv/.complete" ]; then
  echo "pubgraph: creating virtual environment $venv (first run installs torch; later runs reuse it)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  reqs="$(mktemp)"
  printf '%s' "$spec" | "$venv/bin/python" -c 'import sys,json;print("\n".join(json.load(sys.stdin)["deps"]))' >"$reqs"
  "$venv/bin/python" -m pip install -q ${pip_index_args[@]+"${pip_index_args[@]}"} -r "$reqs" >&2
  rm -f "$reqs"
  touch "$venv/.complete"
fi
"$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$root" >&2
echo "$venv"
