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

use crate::error::{Error, Result};

/// The most layers (or repetitions) a template builds: a bound on the circuit a single
/// argument can ask for, so that a huge count is an error instead of an unbounded allocation.
pub const MAX_LAYERS: usize = 100_000;

/// Errors if `layers` exceeds [`MAX_LAYERS`], or if the `params_per_layer · layers`
/// parameters from θ\[`first_param`\] overflow an index; returns the index after the last.
fn check_layers(
    what: &str,
    layers: usize,
    params_per_layer: usize,
    first_param: usize,
) -> Result<usize> {
    if layers > MAX_LAYERS {
        return Err(Error::InvalidArgument(format!(
            "{what}: {layers} layers is more than the {MAX_LAYERS} supported"
        )));
    }
    layers
        .checked_mul(params_per_layer)
        .and_then(|n| n.checked_add(first_param))
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{what}: parameter indices from {first_param} overflow"
            ))
        })
}

pub use ansatz::{hardware_efficient, strongly_entangling};
pub use encoding::{
    amplitude_encoding, angle_encoding, iqp_encoding, zz_feature_map, Entanglement, FeatureMap,
    RotationAxis, MAX_AMPLITUDE_QUBITS,
};
pub use qaoa::{check_weights, maxcut_observable, maxcut_value, qaoa_maxcut, Edge};
