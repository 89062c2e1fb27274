//! docker-dns-provision: make the local Docker engine run what DNS TXT records say.
//!
//! The data flows one way: records (DNS or a file) → [`desired`] → [`plan`] against the
//! engine's [`docker`] state as crash recovery ([`recover`]) leaves it → [`apply`], which
//! verifies what it starts ([`verify`]) in start order ([`order`]). Everything up to the
//! plan is pure; only `apply` changes anything. The record format is in
//! docker-dns-provision(5), the safety rules in docker-dns-provision-operations(7)
//! (`init/man/`).

pub mod apply;
pub mod base64;
pub mod bounded_read;
pub mod cli;
pub mod container;
pub mod context;
pub mod converge;
pub mod desired;
pub mod dns;
pub mod docker;
pub mod exit;
pub mod images;
pub mod jobs;
pub mod lint;
pub mod lock;
pub mod logging;
pub mod plan;
pub mod pool;
pub mod recover;
pub mod report;
pub mod retry;
pub mod state;
pub mod step;
pub mod walk;

#[cfg(test)]
mod fuzzing;
