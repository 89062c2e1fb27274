//! Which environment variables look secret. DNS answers whoever asks, so a record must not
//! carry a password: `export` names these on stderr, and `--redact` replaces their values
//! with [`PLACEHOLDER`]. Owns only the rule; a name is a guess, never a guarantee.

/// What `--redact` writes instead of a secret value.
pub const PLACEHOLDER: &str = "REDACTED";

/// The parts of a name that make it look secret, matched anywhere, in any case.
const MARKERS: &[&str] = &["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// Whether an environment variable's name looks like it holds a secret (`*PASSWORD*`,
/// `*SECRET*`, `*TOKEN*`, `*KEY*`, case-insensitive).
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    MARKERS.iter().any(|m| upper.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_secret() {
        for name in [
            "PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "db_password",
            "AWS_SECRET_ACCESS_KEY",
            "client_secret",
            "GITHUB_TOKEN",
            "tokenFile",
            "API_KEY",
            "KEYCLOAK_URL",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["PATH", "HOME", "PASS", "TOKE", "SECRE", "K_E_Y", ""] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
