//! docker-dns-provision: make the local Docker engine run what DNS TXT records say.
//!
//! The record format is in docker-dns-provision(5), the safety rules in
//! docker-dns-provision-operations(7), the threat model in docker-dns-provision-security(7)
//! (sources in `init/man/`). This page is the map of the source.
//!
//! # The pipeline
//!
//! The data flows one way, and only [`apply`] changes anything:
//!
//! ```text
//! cli → context ─► records (dns, or dns::records_file) ─► desired ──────────────┐
//!                  engine's list (converge::engine, while DNS is asked) ─► recover ─► images ─► plan ─► apply ─► report, exit
//! ```
//!
//! - [`cli`] parses the command line; [`context`] turns the options into ready objects (the
//!   host, the rules records are read under, the records source, the engine's endpoint), in
//!   one place, so that every command reads a record the same way.
//! - [`converge`] is one run of `apply`, `plan` or `show`, phase by phase; its order is the
//!   safety argument (before the list is known, the engine is only put back to where a crash
//!   left it). [`lint`] checks a whole records file, through the same [`context`].
//! - Reading is pure data: [`dns`] (resolv.conf, wire queries, retry, the classification of
//!   every reply into an [`dns::Answer`], and the one copy of the DNS-name rules) and [`dns::records_file`] (the `--records` file)
//!   produce answers; [`walk`] says which levels a host asks; [`desired`] reads the list and
//!   each container's record over them; [`container`] turns a record's text (a `docker run`
//!   line or a JSON body) into the Engine API create body, with the policy checks.
//! - [`network`] does the same for the host's user-defined networks: their records (the
//!   options of `docker network create`), their pure plan, and their creation before the
//!   containers and removal after them (the run's part is `converge`'s networks phase).
//! - [`docker`] is the Engine API client (transport, version negotiation, typed calls,
//!   credentials, the pull stream; which engine the CLI's settings and contexts name in
//!   [`docker::context`], Podman's differences in [`docker::podman`]); [`docker::EngineCalls`] is the narrow seam `apply` works
//!   through.
//! - Planning is pure: [`recover`] repairs what an interrupted replace left, from the
//!   engine's list alone; [`images`] holds the pull policy, and what the `--pull always` pulls
//!   before planning found is an input of [`plan`], which turns desired × actual into
//!   [`step`]s (the shared vocabulary of actions and temporary names), in start order
//!   ([`plan::order`]); [`jobs`] says which one-shot jobs finished.
//! - [`apply`] executes a plan: pulls, safe replace, verification of what it starts
//!   ([`apply::verify`]) with rollback, removal, waves in start order; every failure is the
//!   container's, never fatal to the run; with `--prune-images`, the images the run left
//!   unused are removed after it ([`apply::prune`]).
//! - [`report`] prints what happened (with [`change`]: what a replace changes), [`metrics`]
//!   writes it for node_exporter, [`exit`] maps it to the documented status, [`state`] keeps
//!   what must survive a run (finished jobs, the last converged state, the nameservers that
//!   failed), [`notify`] tells systemd what the run waits for and when the host is ready.
//! - While DNS is silent, [`offline`] says which containers of the last converged state may be
//!   started again (only started: never created, replaced or removed); [`converge`] runs
//!   that through [`apply`] after `--offline-after`, and keeps asking DNS.
//! - [`export`] goes the other way: the engine's existing containers (inspect of each and
//!   of its image) → the records that make them again, written as dnsmasq, zone or JSON
//!   records ([`export::records`], reusable for any record kind); the rules of what a run
//!   line says and leaves out are pure ([`export::line`]).
//! - Shared mechanics: [`retry`] (the one backoff), [`pool`] (the one thread pool), [`lock`]
//!   (the run lock), [`bounded_read`] (every operator file is read with a type check and a
//!   size bound), [`base64`], [`sha256`], [`logging`].
//!
//! # Tests
//!
//! Pure rules are tested beside their code (`cargo test --lib`: no root, engine or network,
//! and `apply`'s rules through a fake engine behind [`docker::EngineCalls`]). `tests/` runs
//! the real binary against a real dnsmasq, BIND and unbound, real registries and the real
//! engine, with in-process fakes (`tests/common/`) only for the faults real servers do not
//! produce; `boot` installs the Debian package into a root booted with systemd as PID 1.
//! The README's development notes say how to run each tier.

pub mod apply;
pub mod base64;
pub mod bounded_read;
pub mod btree;
pub mod change;
pub mod cli;
pub mod container;
pub mod context;
pub mod converge;
pub mod desired;
pub mod dns;
pub mod docker;
pub mod exit;
pub mod export;
pub mod images;
pub mod jobs;
pub mod lint;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod network;
pub mod notify;
pub mod offline;
pub mod plan;
pub mod pool;
pub mod recover;
pub mod report;
pub mod retry;
pub mod sha256;
pub mod state;
pub mod step;
pub mod walk;

#[cfg(test)]
mod fuzzing;
