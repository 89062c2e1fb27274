//! Engine API versions and their negotiation: min(the engine's maximum, ours), refused below
//! our floor. Pure; the ping that reads the engine's version lives in the engine client.

use std::fmt;

/// An Engine API version, `MAJOR.MINOR`, compared numerically (1.9 < 1.41).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u16,
    /// The number engines bump with each release.
    pub minor: u16,
}

impl ApiVersion {
    /// The version `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }

    /// Parse `1.41` (what the `Api-Version` header holds).
    pub fn parse(text: &str) -> Result<ApiVersion, String> {
        let bad = || format!("{text:?} is not an API version (MAJOR.MINOR)");
        let (major, minor) = text.trim().split_once('.').ok_or_else(bad)?;
        let number = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse::<u16>().map_err(|_| bad())
        };
        Ok(ApiVersion::new(number(major)?, number(minor)?))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The newest version we speak. 1.47 (Engine 27.2–27.5) is the newest whose create and pull
/// semantics the spec mapping was checked against without a behaviour change we would have to
/// handle: 1.48 deprecates the pull stream's `error` field and adds mount type `image`, 1.52
/// rejects the container-wide `MacAddress`. Every current engine (29.x accepts ≥ 1.40 or
/// ≥ 1.44 by default) accepts it, and older engines negotiate down.
pub const NEWEST: ApiVersion = ApiVersion::new(1, 47);

/// The oldest engine version we accept: 1.40 (Engine 19.03), the Go client's own floor.
/// Debian 12's Engine 20.10 speaks 1.41. Below 1.40 there is no `HEAD /_ping`, no
/// `DeviceRequests` and a different default IPC mode, none of which we want to work around.
pub const OLDEST: ApiVersion = ApiVersion::new(1, 40);

/// The version to use with an engine whose maximum is `engine`, or why there is none.
pub fn negotiate(engine: ApiVersion) -> Result<ApiVersion, String> {
    if engine < OLDEST {
        return Err(format!(
            "the engine speaks API {engine} at most; this tool needs at least {OLDEST} \
             (Docker 19.03 or newer)"
        ));
    }
    Ok(engine.min(NEWEST))
}

/// A version pinned by `DOCKER_API_VERSION` (the CLI's `1.41`, or `v1.41`): used as it is,
/// without negotiation, so an engine that does not speak it refuses the first call. Below
/// [`OLDEST`] it is refused here: this tool's calls need what that version brought.
pub fn pinned(text: &str) -> Result<ApiVersion, String> {
    let v = ApiVersion::parse(text.strip_prefix('v').unwrap_or(text))?;
    if v < OLDEST {
        return Err(format!(
            "{v} is older than this tool can speak (at least {OLDEST})"
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let ok = [
            ("1.41", (1, 41)),
            ("1.9", (1, 9)),
            (" 1.47 ", (1, 47)),
            ("2.0", (2, 0)),
        ];
        for (text, (major, minor)) in ok {
            let v = ApiVersion::parse(text).unwrap();
            assert_eq!(v, ApiVersion::new(major, minor), "{text}");
            assert_eq!(v.to_string(), text.trim());
        }
        for text in [
            "", "1", "1.", ".41", "1.4a", "v1.41", "1.41.0", "-1.41", "1.+4", "99999.1",
        ] {
            assert!(ApiVersion::parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn pinned_versions() {
        let cases = [
            ("1.41", Ok("1.41")),
            ("v1.43", Ok("1.43")),
            ("1.99", Ok("1.99")),
            ("1.39", Err("at least 1.40")),
            ("x", Err("not an API version")),
        ];
        for (text, want) in cases {
            match (pinned(text), want) {
                (Ok(v), Ok(w)) => assert_eq!(v.to_string(), w, "{text}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn compares_numerically() {
        let ordered = ["1.9", "1.24", "1.40", "1.41", "1.100", "2.0"];
        for pair in ordered.windows(2) {
            let (a, b) = (ApiVersion::parse(pair[0]), ApiVersion::parse(pair[1]));
            assert!(a.unwrap() < b.unwrap(), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn negotiates_the_lower_of_both() {
        let cases = [
            ("1.41", Ok("1.41")), // Debian 12, Engine 20.10
            ("1.40", Ok("1.40")),
            ("1.47", Ok("1.47")),
            ("1.52", Ok("1.47")), // Engine 29.0, whose floor is 1.44
            ("1.56", Ok("1.47")),
            ("2.3", Ok("1.47")),
            ("1.39", Err("at least 1.40")),
            ("1.24", Err("API 1.24 at most")),
        ];
        for (engine, want) in cases {
            let got = negotiate(ApiVersion::parse(engine).unwrap());
            match (got, want) {
                (Ok(v), Ok(w)) => assert_eq!(v.to_string(), w, "{engine}"),
                (Err(e), Err(w)) => assert!(e.contains(w), "{engine}: {e}"),
                (got, want) => panic!("{engine}: got {got:?}, want {want:?}"),
            }
        }
    }
}
