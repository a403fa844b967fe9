//! The backend every example runs on, picked the way a newcomer wants it.

use qshade::{Backend, Result};

/// `qshade::choose_backend()` (a hardware GPU if there is one, else the fast CPU backend; it
/// prints which and why); `--cpu` forces the CPU backend and `--gpu` the GPU backend on any
/// adapter, software rasterizers included. Call it first thing in `main`.
pub fn backend() -> Result<Box<dyn Backend>> {
    quiet_mesa_wsi();
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--cpu") {
        let cpu = qshade::CpuBackend::new();
        println!("backend: {} (--cpu given)", cpu.name());
        return Ok(Box::new(cpu));
    }
    if args.iter().any(|a| a == "--gpu") {
        #[cfg(feature = "gpu")]
        {
            let gpu = qshade::GpuBackend::new()?;
            println!("backend: {} (--gpu given)", gpu.name());
            return Ok(Box::new(gpu));
        }
        #[cfg(not(feature = "gpu"))]
        return Err(qshade::Error::Unsupported(
            "--gpu: this build has no `gpu` feature".into(),
        ));
    }
    let choice = qshade::choose_backend();
    println!("backend: {} ({})", choice.backend.name(), choice.reason);
    Ok(choice.backend)
}

/// Mesa's Vulkan device-select layer makes libwayland print "error: XDG_RUNTIME_DIR is invalid
/// or not set in the environment." where that variable is unset (containers, CI, ssh); compute
/// does not need the layer (it only orders GPUs), so a program may turn it off for itself. Done
/// at the start of `main`, before any thread exists, so changing the environment is safe.
fn quiet_mesa_wsi() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none()
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}
