//! Circuit templates for QML: feature encodings, variational ansätze and QAOA layers. Each
//! returns an ordinary [`Circuit`](crate::Circuit) (named θ where trainable) that runs on any backend and
//! composes with [`Circuit::append`](crate::Circuit::append).
//!
//! Encodings whose angles are *products* of features (ZZ feature map, IQP) come as a
//! [`FeatureMap`]: the circuit reads derived inputs, and [`FeatureMap::features`] turns a raw
//! sample into them, so batches stay plain `B × num_inputs` matrices.

mod ansatz;
mod encoding;
mod qaoa;

pub use ansatz::{hardware_efficient, strongly_entangling};
pub use encoding::{
    amplitude_encoding, angle_encoding, iqp_encoding, zz_feature_map, Entanglement, FeatureMap,
    RotationAxis, MAX_AMPLITUDE_QUBITS,
};
pub use qaoa::{
    check_weights, maxcut_observable, maxcut_value, qaoa_maxcut, Edge, MAX_QAOA_LAYERS,
};
