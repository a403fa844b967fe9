//! A terminal progress bar (indicatif) driven by qshade's progress callbacks
//! (`qshade::qml::progress`), shared by the QML examples.

use indicatif::{ProgressBar, ProgressStyle};
use qshade::qml::progress::Progress;

/// A bar labelled `label`, and the callback that moves it: pass the callback to a config's
/// `.progress(…)` (or `FidelityKernel::with_progress`), call `bar.finish_and_clear()` after.
pub fn bar(label: &str) -> (ProgressBar, impl Fn(&Progress) + Send + Sync + 'static) {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    let handle = bar.clone();
    let callback = move |p: &Progress| {
        handle.set_length(p.total as u64);
        handle.set_position(p.done as u64);
        match p.loss {
            Some(loss) => handle.set_message(format!("{} · loss {loss:.5}", p.what)),
            None => handle.set_message(p.what),
        }
    };
    (bar, callback)
}
