//! Every WGSL kernel parses and validates with naga, in both precisions and every access mode
//! it has.

use qshade::shaders::{source, source_with, validate, Access, Kernel, MatrixSource};
use qshade::Precision;

#[test]
fn every_kernel_validates_in_every_variant() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for kernel in Kernel::ALL {
        for precision in [Precision::F32, Precision::F64] {
            for access in Access::ALL {
                if !kernel.supports(access) {
                    continue;
                }
                for matrices in [MatrixSource::Buffer, MatrixSource::Inline] {
                    checked += 1;
                    let src = source_with(kernel, precision, access, matrices);
                    if let Err(e) = validate(&src, precision) {
                        failures.push(format!(
                            "{kernel:?} {precision:?} {access:?} {matrices:?}: {e}"
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} variants failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // 11 kernels in both unpaired access modes, 4 of them (the light gate kernels) also in
    // the four paired modes; 5 two-state kernels and the tile single-binding only; the copy in
    // single item-paired mode only; two precisions; both matrix sources.
    assert_eq!(checked, 2 * 2 * (11 * 2 + 4 * 4 + 6 + 1));
}

#[test]
fn tile_kernel_validates_for_every_tile_size() {
    for t in 1..=12u8 {
        for wg in [32u16, 64, 256] {
            for precision in [Precision::F32, Precision::F64] {
                let src = source(Kernel::Tile(t, wg), precision, Access::Single);
                validate(&src, precision)
                    .unwrap_or_else(|e| panic!("tile {t} wg {wg} {precision:?}: {e}"));
            }
        }
    }
}

#[test]
fn dense_k_kernel_validates_for_k_3_to_5() {
    for k in 3..=5u8 {
        for precision in [Precision::F32, Precision::F64] {
            for access in [Access::Single, Access::Chunked] {
                let src = source(Kernel::GateK(k), precision, access);
                validate(&src, precision)
                    .unwrap_or_else(|e| panic!("k {k} {precision:?} {access:?}: {e}"));
            }
        }
    }
}

#[test]
fn f64_kernels_are_rejected_without_the_float64_capability() {
    // Guards the test above: validation really checks capabilities, so an f64 source validated
    // as f32 must fail.
    let src = source(Kernel::Gate1, Precision::F64, Access::Single);
    assert!(validate(&src, Precision::F32).is_err());
}
