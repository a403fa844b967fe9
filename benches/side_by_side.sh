#!/usr/bin/env bash
# Runs the peer simulators (benches/peers.py: qulacs, PennyLane lightning.qubit, qiskit-aer, qsim)
# and qshade's bench program on the same machine, one after the other, then prints a comparison
# table (ratios at like precision, benches/compare.py). The workloads: benches/WORKLOADS.md.
#
# The peers need a Python venv, created once from the repository root:
#   python3 -m venv .venv-peers && .venv-peers/bin/pip install -r benches/requirements-peers.txt
#
# Usage:
#   benches/side_by_side.sh [qshade backends, default cpu,cpu-f32,gpu]
# Environment: PEERS_PYTHON (default .venv-peers/bin/python), PEERS_SCRIPT (default
# benches/peers.py), PEERS_ARGS / BENCH_ARGS (extra arguments, e.g. PEERS_ARGS='--sims qulacs,qsim'),
# PEERS_BUDGET_S (timed seconds per peer figure). Both sides use 2 threads. Output goes to
# bench-results/ (peers.jsonl, qshade.jsonl, comparison.md).
set -euo pipefail
cd "$(dirname "$0")/.."
backends="${1:-cpu,cpu-f32,gpu}"
py="${PEERS_PYTHON:-.venv-peers/bin/python}"
peers="${PEERS_SCRIPT:-benches/peers.py}"
if [ ! -x "$py" ]; then
    echo "no Python at $py: create the venv with" >&2
    echo "  python3 -m venv .venv-peers && .venv-peers/bin/pip install -r benches/requirements-peers.txt" >&2
    echo "or point PEERS_PYTHON at one that has the packages of benches/requirements-peers.txt" >&2
    exit 2
fi
out=bench-results
mkdir -p "$out"
: > "$out/peers.jsonl"   # peers.py appends: keep only this run's figures
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo build --release --example bench
PEERS_THREADS=2 "$py" "$peers" --out "$out/peers.jsonl" ${PEERS_ARGS:-}
RAYON_NUM_THREADS=2 target/release/examples/bench --backend "$backends" ${BENCH_ARGS:-} | tee "$out/qshade.jsonl"
python3 benches/compare.py "$out/peers.jsonl" "$out/qshade.jsonl" | tee "$out/comparison.md"
