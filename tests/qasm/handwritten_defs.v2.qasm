OPENQASM 2.0;
include "qelib1.inc";
// A user gate built from others, with an expression in its parameter.
gate mix(a, b) p, r { ry(a/2) p; cx p, r; rz(-b*2 + pi/3) r; u2(a, b) p; }
gate twice(a) p, r { mix(a, 0.5) p, r; mix(a, -0.5) r, p; }
qreg q[2];
qreg r[2];
creg c[2];
h q;             // broadcast over a register
cx q, r;
mix(0.7, -1.1) q[0], r[1];
u1(pi/8) r[0];
cu1(0.4) q[1], r[0];
u3(0.1, 0.2, 0.3) r[1];
barrier q, r;
twice(0.3) r[0], q[1];
measure q -> c;
