//! `choose_backend` picks a hardware GPU when there is one and the fast CPU backend otherwise
//! (a software rasterizer such as lavapipe is passed over), says why, and what it returns runs.

use qshade::{choose_backend, Backend, BackendKind, Bindings, Circuit, Observable};

#[test]
fn choose_backend_passes_over_software_adapters_and_says_why() {
    let choice = choose_backend();
    #[cfg(feature = "gpu")]
    match qshade::GpuBackend::new() {
        Ok(gpu) if gpu.is_software() => {
            assert_eq!(choice.kind, BackendKind::Cpu, "{choice:?}");
            assert!(choice.reason.contains("software rasterizer"), "{choice:?}");
            assert!(choice.reason.contains(&gpu.adapter_name()), "{choice:?}");
            // Asked for explicitly, the software adapter still runs and says what it is.
            assert!(gpu.name().contains("software rasterizer"), "{}", gpu.name());
        }
        Ok(_) => assert_eq!(choice.kind, BackendKind::Gpu, "{choice:?}"),
        Err(e) => {
            assert_eq!(choice.kind, BackendKind::Cpu, "{choice:?}");
            assert!(choice.reason.contains(&e.to_string()), "{choice:?}");
        }
    }
    #[cfg(not(feature = "gpu"))]
    assert_eq!(choice.kind, BackendKind::Cpu, "{choice:?}");
    assert!(!choice.reason.is_empty());
    let mut bell = Circuit::new(2).unwrap();
    bell.h(0).unwrap().cnot(0, 1).unwrap();
    let zz = choice
        .backend
        .run(&bell, &Bindings::none())
        .and_then(|s| s.expectation(&Observable::parse("Z0 Z1")?))
        .unwrap();
    assert!((zz - 1.0).abs() < 1e-6, "⟨Z0 Z1⟩ = {zz}");
}
