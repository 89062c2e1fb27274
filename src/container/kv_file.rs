//! The env-file / label-file format the docker CLI reads client-side: one `KEY=value` a line,
//! BOM stripped, leading space trimmed, `#` comments, no quote removal, no interpolation.
//! Reads only through [`Host`]; relative paths are refused (no working directory at boot).

use std::path::Path;

use super::values::key_value;
use super::{Host, SpecError};

/// The lines of a kv file (env-file/label-file format): BOM stripped, leading space
/// trimmed, `#` comments, no quote removal. Yields (line number, line).
fn kv_lines(flag: &str, path: &str, host: &dyn Host) -> Result<Vec<(usize, String)>, SpecError> {
    if !path.starts_with('/') {
        return Err(SpecError::invalid(
            flag,
            path,
            "the file must be an absolute path: the tool has no meaningful working directory",
        ));
    }
    let text = host
        .read_file(Path::new(path))
        .map_err(|e| SpecError::invalid(flag, path, format!("cannot read it: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(text
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            (
                i + 1,
                l.strip_suffix('\r').unwrap_or(l).trim_start().to_string(),
            )
        })
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect())
}

pub fn env_file(flag: &str, path: &str, host: &dyn Host) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    for (n, line) in kv_lines(flag, path, host)? {
        let (key, _) = key_value(&line);
        check_key(flag, path, n, "variable", key)?;
        if line.contains('=') {
            out.push(line);
        } else if let Some(val) = host.env(key) {
            out.push(format!("{key}={val}"));
        }
    }
    Ok(out)
}

/// A key of line `n` must be non-empty and without white space; `what` names it for the error.
fn check_key(flag: &str, path: &str, n: usize, what: &str, key: &str) -> Result<(), SpecError> {
    if key.is_empty() {
        return Err(SpecError::invalid(
            flag,
            path,
            format!("line {n}: no {what} name"),
        ));
    }
    if key.contains(char::is_whitespace) {
        return Err(SpecError::invalid(
            flag,
            path,
            format!("line {n}: {what} {key:?} contains whitespace"),
        ));
    }
    Ok(())
}

pub fn label_file(
    flag: &str,
    path: &str,
    host: &dyn Host,
) -> Result<Vec<(String, String)>, SpecError> {
    let mut out = Vec::new();
    for (n, line) in kv_lines(flag, path, host)? {
        let Some((key, val)) = line.split_once('=') else {
            continue;
        };
        check_key(flag, path, n, "label", key)?;
        out.push((key.to_string(), val.to_string()));
    }
    Ok(out)
}
