#!/usr/bin/env bash
# Issue 16's trajectory benchmark side by side in one run: qshade (examples/noise_bench.rs, f64
# and f32) before and after the peers (benches/noise_peers.py: qsim's trajectories, Aer's
# statevector with noise) on the same 12-qubit depth-20 noisy circuit, T = 1000, 2 threads on
# every side, with the date and the machine load (uptime) before and after. One JSON line per
# figure, also written to bench-results/noise.jsonl.
#
# The peers need a Python with the packages of benches/requirements-peers.txt (see
# benches/side_by_side.sh for creating .venv-peers).
#
# Usage: benches/noise_side_by_side.sh [peer sims, default qsim,aer_sv]
# Environment: PEERS_PYTHON (default .venv-peers/bin/python), DENSITY_QUBITS (qubits of
# qshade's density-matrix figure, default 0 = skipped; the peers' density figures are
# aer_dm,pl_mixed in the sims list).
set -euo pipefail
cd "$(dirname "$0")/.."
sims="${1:-qsim,aer_sv}"
py="${PEERS_PYTHON:-.venv-peers/bin/python}"
if [ ! -x "$py" ]; then
    echo "no Python at $py: create the venv (see benches/side_by_side.sh) or set PEERS_PYTHON" >&2
    exit 2
fi
out=bench-results
mkdir -p "$out"
cargo build --release --example noise_bench
stamp() { printf '{"%s":"%s","load":"%s"}\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uptime | sed 's/.*load average: //')"; }
{
    stamp start
    RAYON_NUM_THREADS=2 target/release/examples/noise_bench 12 "${DENSITY_QUBITS:-0}"
    PEERS_THREADS=2 "$py" benches/noise_peers.py --sims "$sims"
    RAYON_NUM_THREADS=2 target/release/examples/noise_bench 12 0
    stamp end
} | tee "$out/noise.jsonl"
