OPENQASM 3.0;
include "stdgates.inc";
gate iswap _gate_q_0, _gate_q_1 {
  s _gate_q_0;
  s _gate_q_1;
  h _gate_q_0;
  cx _gate_q_0, _gate_q_1;
  cx _gate_q_1, _gate_q_0;
  h _gate_q_1;
}
gate sxdg _gate_q_0 {
  s _gate_q_0;
  h _gate_q_0;
  s _gate_q_0;
}
gate ryy(p0) _gate_q_0, _gate_q_1 {
  sxdg _gate_q_0;
  sxdg _gate_q_1;
  cx _gate_q_0, _gate_q_1;
  rz(p0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
  sx _gate_q_0;
  sx _gate_q_1;
}
gate rzz(p0) _gate_q_0, _gate_q_1 {
  cx _gate_q_0, _gate_q_1;
  rz(p0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
}
qubit[3] q;
iswap q[2], q[1];
sdg q[2];
x q[0];
t q[0];
sx q[2];
ry(-1.6503747574025651) q[2];
cx q[2], q[1];
ryy(-1.3326143424103236) q[0], q[2];
tdg q[2];
sx q[2];
ccx q[0], q[2], q[1];
y q[0];
p(-0.43735056717198884) q[0];
rzz(-1.5506711772083468) q[1], q[2];
rz(0.6800653951278717) q[2];
swap q[1], q[2];
s q[1];
rz(3.0159185454621165) q[0];
rzz(-2.3906484173990328) q[0], q[2];
iswap q[0], q[1];
rz(0.4105374197063356) q[1];
t q[0];
x q[1];
ryy(-2.964762507867821) q[0], q[1];
crz(1.5393770393176807) q[0], q[1];
ry(2.111441631616154) q[1];
tdg q[2];
sx q[1];
iswap q[2], q[1];
cp(2.683957114976489) q[0], q[2];
