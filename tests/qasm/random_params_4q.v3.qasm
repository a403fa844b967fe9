OPENQASM 3.0;
include "stdgates.inc";
input float[64] alpha;
input float[64] beta;
input float[64] γ;
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
qubit[4] q;
ccx q[2], q[3], q[1];
cx q[2], q[3];
cp(1.18720821743163) q[3], q[2];
swap q[2], q[0];
ryy(0.25723838039535574 + 1.3623795435482884*γ) q[2], q[3];
rz(0.5729356024217758 - 0.8082434970928611*alpha) q[2];
iswap q[1], q[0];
y q[1];
z q[2];
U(-0.5534624870417235, 1.0838890145409792, -2.7873031761237406) q[3];
rz(1.4793706778798459) q[3];
ry(-0.5490800639544813 + 1.0406361119446075*γ) q[3];
sx q[3];
cz q[3], q[1];
p(0.8442585731408854) q[1];
iswap q[2], q[1];
rzz(2.5480617016816867) q[2], q[0];
ccx q[1], q[0], q[2];
rzz(0.8860717187159421) q[2], q[0];
tdg q[2];
rz(0.9891338060555595 + 0.8366601763425758*γ) q[0];
p(-0.24606506694986874 + 0.15080885296116397*alpha) q[0];
x q[3];
ch q[0], q[2];
ccx q[3], q[2], q[0];
cy q[2], q[3];
ryy(-1.2748087250194238) q[0], q[3];
cz q[1], q[3];
iswap q[1], q[3];
x q[3];
cswap q[0], q[2], q[3];
swap q[1], q[0];
s q[2];
sdg q[2];
ry(0.3168091527536532 + 1.0065179257469996*beta) q[2];
cswap q[2], q[0], q[1];
y q[1];
iswap q[2], q[3];
rxx(-2.7405853029490346) q[1], q[3];
rxx(-2.02839151578917) q[3], q[0];
p(3.1275045586367085) q[1];
ccx q[2], q[1], q[3];
y q[1];
crx(0.12263897827013759) q[1], q[0];
rxx(1.1131479370736361) q[0], q[2];
rxx(-1.5161899064880227) q[0], q[1];
rxx(-0.5763475963335658) q[2], q[1];
cz q[2], q[0];
cry(0.26499720641457936 - 1.3996512321301768*alpha) q[1], q[2];
rz(0.22087320923448628 + 1.7374687637701158*alpha) q[0];
