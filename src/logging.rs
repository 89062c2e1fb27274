//! Logging to stderr, shaped for where it lands: under systemd (stderr is the journal stream)
//! each line carries a `<N>` syslog priority and no timestamp, so journald keeps the levels
//! and its own time; elsewhere (a terminal, cron, a pipe) lines carry a UTC timestamp.

use std::io::Write;

/// Set up the logger: `level` (from `--log-level`) wins over `RUST_LOG`; the default is info.
pub fn init(level: Option<&str>) {
    let mut b = env_logger::Builder::new();
    b.filter_level(log::LevelFilter::Info);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        b.parse_filters(&spec);
    }
    if let Some(l) = level {
        b.parse_filters(l);
    }
    // The HTTP library logs request headers at debug and raw bytes at trace, and a pull's
    // X-Registry-Auth header is a registry secret: no level may show it.
    for module in ["ureq", "ureq_proto"] {
        b.filter_module(module, log::LevelFilter::Info);
    }
    let journal = stderr_is_journal();
    b.format(move |f, record| {
        if journal {
            writeln!(f, "<{}>{}", priority(record.level()), record.args())
        } else {
            writeln!(f, "{} {:<5} {}", utc_now(), record.level(), record.args())
        }
    });
    b.target(env_logger::Target::Stderr);
    // A second init (tests) is harmless: keep the first logger.
    let _ = b.try_init();
}

/// syslog priority of a log level (sd-daemon(3) prefixes).
fn priority(l: log::Level) -> u8 {
    match l {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// systemd sets `JOURNAL_STREAM=dev:ino` of the stream it connected; it is only ours if
/// stderr is still that stream (not redirected by a wrapper script).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(want) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(m) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    want == format!("{}:{}", m.dev(), m.ino())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` without a time-zone database.
fn utc_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_utc(now.as_secs(), now.subsec_millis())
}

/// `secs.millis` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_utc(secs: u64, millis: u32) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(format_utc(1_795_926_722, 999), "2026-11-29T04:32:02.999Z");
    }

    #[test]
    fn priorities() {
        assert_eq!(priority(log::Level::Error), 3);
        assert_eq!(priority(log::Level::Warn), 4);
        assert_eq!(priority(log::Level::Info), 6);
        assert_eq!(priority(log::Level::Debug), 7);
    }
}
