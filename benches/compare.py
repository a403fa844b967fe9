#!/usr/bin/env python3
"""Compare qshade's bench lines with the peers' (benches/peers.py), measured in one run.

Usage: python3 benches/compare.py peers.jsonl qshade.jsonl [more.jsonl ...] > table.md

For every qshade figure it finds the peer figures of the same workload, size and mode at the
same precision ("compare at like precision": qulacs is double only, qsim single only,
lightning.qubit and qiskit-aer run in single with double variants) and prints the ratio to the best of them (< 1: qshade is faster).
gate1q/gate2q compare net per-gate times (empty circuit subtracted); the rest whole calls.
qiskit-aer's gate1q rows are left out: its qubit truncation simulates only qubit 0 there
(see benches/WORKLOADS.md, note ¹), so they do not time a gate kernel.
"""
import json
import sys


def key(rec):
    return (rec.get("workload"), rec.get("n"), rec.get("mode"))


def metric(rec):
    if rec.get("workload") in ("gate1q", "gate2q"):
        return rec.get("per_gate_net_s")
    return rec.get("median_s")


def fmt(seconds):
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def peer_name(rec):
    return rec.get("variant") or rec.get("sim")


def main(paths):
    records = []
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rec = json.loads(line)
                    if metric(rec) is not None and "error" not in rec and "skipped" not in rec:
                        records.append(rec)
    ours = [r for r in records if r.get("sim") == "qshade"]
    peers = [r for r in records if r.get("sim") != "qshade"]
    peers = [r for r in peers if not (r.get("workload") == "gate1q" and "aer" in str(peer_name(r)))]
    print("| workload | n | mode | qshade backend | precision | qshade | best peer (like precision) | peer | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in sorted(ours, key=lambda r: (str(r.get("workload")), r.get("n") or 0, str(r.get("mode")), r.get("backend"))):
        like = [p for p in peers if key(p) == key(r) and p.get("precision") == r.get("precision")]
        best = min(like, key=metric) if like else None
        ratio = f"{metric(r) / metric(best):.2f}" if best else "—"
        print(
            f"| {r.get('workload')} | {r.get('n')} | {r.get('mode') or ''} | {r.get('backend')} | {r.get('precision')} "
            f"| {fmt(metric(r))} | {peer_name(best) if best else '—'} | {fmt(metric(best) if best else None)} | {ratio} |"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1:])
