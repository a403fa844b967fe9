//! What the host reports about itself.

/// Bytes of memory the host reports available (`MemAvailable` in `/proc/meminfo`), `None`
/// where that cannot be read (not Linux, no procfs).
pub(crate) fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}
