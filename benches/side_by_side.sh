#!/usr/bin/env bash
# Runs the peer simulators and qshade's bench program on the same machine, one after the other,
# then prints a comparison table (ratios at like precision). Usage:
#   PEERS_PYTHON=/path/to/venv/bin/python benches/side_by_side.sh [qshade backends, default cpu,cpu-f32,gpu]
# The venv needs: numpy qulacs pennylane pennylane-lightning qiskit qiskit-aer cirq-core qsimcirq
# (see shared/bench/README.md). Both sides use 2 threads. Output goes to bench-results/.
set -euo pipefail
cd "$(dirname "$0")/.."
backends="${1:-cpu,cpu-f32,gpu}"
py="${PEERS_PYTHON:-.venv-peers/bin/python}"
peers="${PEERS_SCRIPT:-../shared/bench/peers.py}"
out=bench-results
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo build --release --example bench
PEERS_THREADS=2 "$py" "$peers" --out "$out/peers.jsonl" ${PEERS_ARGS:-}
RAYON_NUM_THREADS=2 target/release/examples/bench --backend "$backends" ${BENCH_ARGS:-} | tee "$out/qshade.jsonl"
python3 benches/compare.py "$out/peers.jsonl" "$out/qshade.jsonl" | tee "$out/comparison.md"
