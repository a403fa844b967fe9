OPENQASM 3.0;
include "stdgates.inc";
gate rzz(p0) _gate_q_0, _gate_q_1 {
  cx _gate_q_0, _gate_q_1;
  rz(p0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
}
gate rxx(p0) _gate_q_0, _gate_q_1 {
  h _gate_q_0;
  h _gate_q_1;
  cx _gate_q_0, _gate_q_1;
  rz(p0) _gate_q_1;
  cx _gate_q_0, _gate_q_1;
  h _gate_q_1;
  h _gate_q_0;
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
gate iswap _gate_q_0, _gate_q_1 {
  s _gate_q_0;
  s _gate_q_1;
  h _gate_q_0;
  cx _gate_q_0, _gate_q_1;
  cx _gate_q_1, _gate_q_0;
  h _gate_q_1;
}
qubit[4] q;
rzz(-2.3970170354587608) q[0], q[1];
s q[1];
h q[1];
y q[0];
cry(-1.01915807256526) q[3], q[1];
cswap q[1], q[0], q[2];
p(-1.5271098105395868) q[2];
rxx(0.19491451084353306) q[1], q[2];
cry(-0.13810526153701685) q[1], q[0];
U(-1.4530673626540982, -2.6261671755380203, 2.3386421144523295) q[1];
cry(3.0042486132672996) q[0], q[1];
ryy(-1.7506985965413357) q[2], q[0];
t q[1];
tdg q[3];
p(0.49521789508344805) q[2];
swap q[3], q[2];
swap q[1], q[0];
sdg q[1];
y q[0];
h q[2];
s q[3];
x q[2];
z q[0];
crx(-2.688522059681581) q[3], q[0];
swap q[1], q[3];
iswap q[3], q[1];
sdg q[2];
cz q[3], q[0];
tdg q[2];
cswap q[0], q[1], q[3];
ryy(2.836723225981588) q[1], q[2];
p(1.1264562706651278) q[1];
sx q[3];
U(-2.0771605721747934, 1.6495229282221135, 2.5607741013997707) q[0];
U(1.6997764988637059, 2.47153141273738, 0.22234055249031215) q[0];
crx(-2.4203470329196426) q[1], q[2];
cy q[3], q[0];
cswap q[2], q[3], q[1];
tdg q[0];
ch q[2], q[0];
rx(-1.4997045140446252) q[2];
sdg q[3];
rx(1.0693305972258793) q[2];
tdg q[2];
tdg q[0];
cry(0.8289782688434473) q[3], q[1];
t q[1];
crx(2.182462764269145) q[2], q[1];
sdg q[1];
sdg q[0];
rx(0.8099324482690875) q[1];
ccx q[3], q[1], q[0];
x q[0];
cp(-1.6540859933910286) q[0], q[2];
tdg q[0];
cry(-3.1373220883730597) q[1], q[3];
cy q[1], q[3];
t q[3];
s q[2];
cy q[2], q[0];
