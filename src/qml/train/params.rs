//! The plain-text parameter file format, version 1.
//!
//! ```text
//! # qshade parameters v1
//! # any further line starting with '#' is a comment; blank lines are ignored
//! hea.l0.ry.q0 0.7853981633974483
//! hea.l0.rz.q0 -1.2e-3
//! head.w.0.0 1.5
//! ```
//!
//! - The first line is exactly `# qshade parameters v1` (trailing spaces allowed).
//! - Every other non-comment line is `name value`: a name without whitespace, whitespace, and a
//!   finite number in Rust's `f64` syntax. Values are written with the shortest representation
//!   that reads back to the same `f64`, so a save → load round trip is exact.
//! - Each name appears once. Loading into a model requires exactly the model's names (any
//!   order): a missing, unknown or repeated name is an error, never a panic.
//! - The file ends with a newline, and files written by qshade end with the comment line
//!   `# entries N` giving the number of `name value` lines. A reader checks both, so a file
//!   cut short (e.g. in the middle of its last number, which would otherwise still parse as a
//!   different number) is an error. Older files without the count line are read when they
//!   end with a newline, as every file qshade wrote does.
//!
//! Parsing and matching take time linear in the number of lines.

use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The header line of version 1.
pub const HEADER: &str = "# qshade parameters v1";

/// Formats `(name, value)` pairs as a version-1 file, with `comments` as `#` lines after the
/// header. Errors if a name is empty or contains whitespace, or a value is not finite.
pub fn format_parameters(entries: &[(String, f64)], comments: &[String]) -> Result<String> {
    let mut out = String::from(HEADER);
    out.push('\n');
    for c in comments {
        for line in c.lines() {
            // A comment must not read back as the count line.
            out.push_str(if line.starts_with("entries") {
                "#  "
            } else {
                "# "
            });
            out.push_str(line);
            out.push('\n');
        }
    }
    for (name, value) in entries {
        if name.is_empty() || name.chars().any(char::is_whitespace) || name.starts_with('#') {
            return Err(Error::InvalidArgument(format!(
                "parameter name '{name}' is empty, starts with '#' or contains whitespace"
            )));
        }
        if !value.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "parameter {name} is {value}; only finite values can be saved"
            )));
        }
        out.push_str(&format!("{name} {value:?}\n"));
    }
    out.push_str(&format!("{COUNT_PREFIX}{}\n", entries.len()));
    Ok(out)
}

/// The start of the trailing count line.
const COUNT_PREFIX: &str = "# entries ";

/// Parses a version-1 file into `(name, value)` pairs in file order. Errors (naming the line)
/// on a missing or different header, a line that is not `name value`, a value that is not a
/// finite number, a repeated name, a file that does not end with a newline, or a count line
/// that does not match the entries (a truncated file).
pub fn parse_parameters(text: &str) -> Result<Vec<(String, f64)>> {
    let bad = |line: usize, msg: String| Error::Parse {
        what: "parameter file",
        line,
        message: msg,
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_end() == HEADER => {}
        Some((_, first)) => {
            return Err(bad(
                1,
                format!(
                    "expected the header '{HEADER}', found {:?}",
                    first.chars().take(60).collect::<String>()
                ),
            ))
        }
        None => {
            return Err(bad(
                1,
                format!("the file is empty; expected the header '{HEADER}'"),
            ))
        }
    }
    let last_line = text.lines().count();
    if !text.ends_with('\n') {
        return Err(bad(
            last_line,
            "the file does not end with a newline: it was cut short (truncated) while being \
             written or copied; save it again"
                .into(),
        ));
    }
    let mut out: Vec<(String, f64)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut count: Option<(usize, usize)> = None;
    for (index, raw) in lines {
        let line_no = index + 1;
        let line = raw.trim();
        if let Some(n) = line.strip_prefix(COUNT_PREFIX) {
            let n: usize = n.trim().parse().map_err(|_| {
                bad(
                    line_no,
                    format!("'{line}' is not a count line '{COUNT_PREFIX}N'"),
                )
            })?;
            count = Some((n, line_no));
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((_, at)) = count {
            return Err(bad(
                line_no,
                format!("an entry follows the count line (line {at}), which must come last"),
            ));
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 2 {
            return Err(bad(
                line_no,
                format!("expected 'name value', found {} field(s)", fields.len()),
            ));
        }
        let value: f64 = fields[1]
            .parse()
            .map_err(|_| bad(line_no, format!("'{}' is not a number", fields[1])))?;
        if !value.is_finite() {
            return Err(bad(
                line_no,
                format!(
                    "value of {} is {value}; parameters must be finite",
                    fields[0]
                ),
            ));
        }
        if !seen.insert(fields[0]) {
            return Err(bad(
                line_no,
                format!("parameter {} appears twice", fields[0]),
            ));
        }
        out.push((fields[0].to_string(), value));
    }
    if let Some((n, at)) = count {
        if n != out.len() {
            return Err(bad(
                at,
                format!(
                    "the file says it has {n} entries but {} were read: it is truncated or edited",
                    out.len()
                ),
            ));
        }
    }
    Ok(out)
}

/// Orders parsed entries as `names`: errors if one is missing or an unknown name is present.
pub fn match_names(entries: &[(String, f64)], names: &[String]) -> Result<Vec<f64>> {
    let known: HashSet<&str> = names.iter().map(String::as_str).collect();
    if let Some((unknown, _)) = entries.iter().find(|(n, _)| !known.contains(n.as_str())) {
        return Err(Error::InvalidArgument(format!(
            "parameter file has '{unknown}', which the model does not have (the model has {} parameters, the file {})",
            names.len(),
            entries.len()
        )));
    }
    let by_name: HashMap<&str, f64> = entries.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    names
        .iter()
        .map(|name| {
            by_name.get(name.as_str()).copied().ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "parameter file lacks '{name}' (the model has {} parameters, the file {})",
                    names.len(),
                    entries.len()
                ))
            })
        })
        .collect()
}

/// Writes `text` to `path`, mapping I/O failures to a qshade error.
pub(crate) fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Reads `path` as UTF-8 text, mapping I/O failures to a qshade error.
pub(crate) fn read_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}
