OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
input float[64] x0;
input float[64] x1;
gate rzz(p0) _gate_q_0, _gate_q_1 {
  cx _gate_q_0, _gate_q_1;
  rz(p0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
}
qubit[3] q;
h q[0];
h q[1];
h q[2];
rz(2*x0) q[0];
rz(2*x1) q[1];
cx q[0], q[1];
rz(2*(pi - x0)*(pi - x1)) q[1];
cx q[0], q[1];
ry(a + b) q[2];
rx(x0*sin(a)) q[2];
crz(a/(-3) + b**2) q[2], q[0];
rzz(-cos(b) + 0.5*exp(x1)) q[0], q[2];
U(a*b, x0 - x1, 1.5/(1 + a**2)) q[1];
