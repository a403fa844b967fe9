//! The one rule for environment overrides: `QSHADE_*` variables change only the defaults, a
//! value set on the configuration wins, and an unparsable value leaves the built-in default.
//! One test in its own binary, so no other test reads the environment while it is changed.

#![cfg(feature = "gpu")]

use qshade::GpuConfig;

#[test]
fn environment_sets_defaults_and_explicit_settings_win() {
    let built_in = GpuConfig::default();
    // SAFETY-free in edition 2021; this binary runs no other test that reads the environment.
    std::env::set_var("QSHADE_FUSION_QUBITS", "4");
    std::env::set_var("QSHADE_BLOCK_QUBITS", "3");
    std::env::set_var("QSHADE_TILE_WG", "64");
    std::env::set_var("QSHADE_ADAPTER", "llvmpipe");
    let from_env = GpuConfig::default();
    assert_eq!(from_env.fusion_qubits, 4);
    assert_eq!(from_env.register_blocks, Some(3));
    assert_eq!(from_env.tile_workgroup, Some(64));
    assert_eq!(from_env.adapter.as_deref(), Some("llvmpipe"));
    let explicit = GpuConfig::default()
        .fusion_qubits(1)
        .register_blocks(Some(0))
        .tile_workgroup(None)
        .adapter(None);
    assert_eq!(explicit.fusion_qubits, 1);
    assert_eq!(explicit.register_blocks, Some(0));
    assert_eq!(explicit.tile_workgroup, None);
    assert_eq!(explicit.adapter, None);
    // The backend takes what the configuration says, not the environment again.
    match qshade::GpuBackend::with_config(GpuConfig::default().adapter(None)) {
        Ok(gpu) => {
            assert_eq!(
                gpu.register_block_qubits(),
                3,
                "QSHADE_BLOCK_QUBITS=3 default"
            );
            let explicit = qshade::GpuBackend::with_config(
                GpuConfig::default().adapter(None).register_blocks(Some(4)),
            )
            .unwrap();
            assert_eq!(explicit.register_block_qubits(), 4, "explicit setting wins");
            // An adapter named by QSHADE_ADAPTER is an explicit choice: choose_backend takes
            // it even when it is a software rasterizer.
            std::env::set_var("QSHADE_ADAPTER", gpu.adapter_name());
            let choice = qshade::choose_backend();
            assert_eq!(choice.kind, qshade::BackendKind::Gpu, "{choice:?}");
            assert!(choice.reason.contains("QSHADE_ADAPTER"), "{choice:?}");
        }
        Err(qshade::Error::NoAdapter { .. }) if std::env::var("QSHADE_ALLOW_NO_GPU").is_ok() => {}
        Err(e) => panic!("GPU backend: {e}"),
    }
    std::env::set_var("QSHADE_FUSION_QUBITS", "many");
    assert_eq!(GpuConfig::default().fusion_qubits, built_in.fusion_qubits);
    for var in [
        "QSHADE_FUSION_QUBITS",
        "QSHADE_BLOCK_QUBITS",
        "QSHADE_TILE_WG",
        "QSHADE_ADAPTER",
    ] {
        std::env::remove_var(var);
    }
}
