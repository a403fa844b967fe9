//! The instruction set the CPU kernels are compiled for, chosen at run time: each hot loop is
//! compiled for the build's baseline and, on x86-64, for AVX2 + FMA.

/// An instruction set a kernel variant is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// The build's baseline.
    Base,
    /// x86-64 with AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

/// The best instruction set this processor runs.
pub(crate) fn detect_isa() -> Isa {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        return Isa::Avx2;
    }
    Isa::Base
}
