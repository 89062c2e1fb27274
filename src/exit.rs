//! The exit-code table (sysexits) and the one rule for which code wins when several apply.
//! Every path out of the program goes through [`Code`]; only the panic hook installed by
//! [`exit_on_panic`] calls `process::exit`, so that a bug ends with the documented 70.

/// An exit status an init system or a script can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// Everything converged (or, for `show`/`plan`, everything was read).
    Ok,
    /// `plan --detailed-exitcode`: everything was read and `apply` would change something.
    ChangesPending,
    /// DNS stayed unavailable for all of `--timeout`, and every container of the last
    /// converged state was verified up by the offline start: the host runs what it last
    /// converged to, not what DNS says now. Never 0: only DNS converges.
    Offline,
    /// No configuration for this host: the list is absent at every level.
    NotConfigured,
    /// Some record is invalid (bad name, bad spec, ambiguous, refused by policy).
    DataError,
    /// The engine refused some actions (pull, create, start, stop or remove failed).
    ActionsFailed,
    /// DNS (or the lock) unavailable within `--timeout`: temporary, try again later.
    TempFail,
    /// The Docker engine could not be reached within `--timeout`.
    Unavailable,
    /// A bug or an impossible state.
    Software,
    /// The configuration is unusable (e.g. `--require-ad` without a trusted resolver).
    Config,
    /// Bad command line.
    Usage,
}

impl Code {
    /// The numeric status.
    pub fn status(self) -> u8 {
        match self {
            Code::Ok => 0,
            Code::Offline => 79,
            Code::ChangesPending => 2,
            Code::Usage => 64,
            Code::DataError => 65,
            Code::NotConfigured => 66,
            Code::Unavailable => 69,
            Code::Software => 70,
            Code::ActionsFailed => 73,
            Code::TempFail => 75,
            Code::Config => 78,
        }
    }

    /// Combine two outcomes: the more severe one wins (the order of the enum).
    pub fn worst(self, other: Code) -> Code {
        self.max(other)
    }
}

/// A reason a command ends early, with the exit code it calls for: the error every stage
/// before `apply` returns, so that which code a failure means is decided where it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// The exit status it calls for.
    pub code: Code,
    /// What went wrong and where, for a person.
    pub why: String,
}

impl Stop {
    /// Stop with `code` for the reason `why`.
    pub fn new(code: Code, why: impl Into<String>) -> Stop {
        Stop {
            code,
            why: why.into(),
        }
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl std::error::Error for Stop {}

impl From<Code> for std::process::ExitCode {
    fn from(c: Code) -> Self {
        std::process::ExitCode::from(c.status())
    }
}

/// `plan --detailed-exitcode`: a plan that would change something and is otherwise clean
/// says so (2); any other status stands, since it says more than "changes pending".
pub fn detailed(code: Code, changes_pending: bool) -> Code {
    match (code, changes_pending) {
        (Code::Ok, true) => Code::ChangesPending,
        _ => code,
    }
}

/// Make a panic end the process with [`Code::Software`] after the usual message. Without
/// it a panic aborts (the release profile sets `panic = "abort"`) and the status is a signal,
/// not the 70 the exit-code table promises for an internal error.
pub fn exit_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        std::process::exit(i32::from(Code::Software.status()));
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Least to most severe, as the precedence line of `--help` and docker-dns-provision(8)
    /// reads backwards.
    const BY_PRECEDENCE: [Code; 11] = [
        Code::Ok,
        Code::ChangesPending,
        Code::Offline,
        Code::NotConfigured,
        Code::DataError,
        Code::ActionsFailed,
        Code::TempFail,
        Code::Unavailable,
        Code::Software,
        Code::Config,
        Code::Usage,
    ];

    #[test]
    fn precedence_follows_the_documented_order() {
        let order = BY_PRECEDENCE;
        // --help, docker-dns-provision(8) and the README: "When several apply, the first in
        // this order wins: 64, 78, 70, 69, 75, 73, 65, 66, 79." (tests/man_pages.rs holds the
        // three to the same order.)
        let documented: Vec<u8> = order.iter().rev().map(|c| c.status()).collect();
        assert_eq!(documented, [64, 78, 70, 69, 75, 73, 65, 66, 79, 2, 0]);
        for (i, a) in order.iter().enumerate() {
            for b in &order[i..] {
                assert_eq!(a.worst(*b), *b, "{a:?} vs {b:?}");
                assert_eq!(b.worst(*a), *b, "{b:?} vs {a:?}");
            }
        }
    }

    #[test]
    fn a_detailed_exit_code_replaces_only_a_clean_zero() {
        assert_eq!(detailed(Code::Ok, false), Code::Ok);
        assert_eq!(detailed(Code::Ok, true).status(), 2);
        assert_eq!(detailed(Code::DataError, true), Code::DataError);
        assert_eq!(detailed(Code::TempFail, false), Code::TempFail);
    }

    #[test]
    fn statuses_are_distinct_sysexits() {
        let mut s: Vec<u8> = BY_PRECEDENCE.iter().map(|c| c.status()).collect();
        s.sort();
        s.dedup();
        assert_eq!(s, vec![0, 2, 64, 65, 66, 69, 70, 73, 75, 78, 79]);
    }
}
