//! Helpers shared by the integration tests: an in-process fake DNS server for fault
//! injection, a real dnsmasq, BIND and unbound, the local test images, a fault-injecting proxy in front of
//! the real engine, a bare HTTP client for posting create bodies as they are, and the
//! end-to-end helpers (running the tool, inspecting containers), a real Podman service on a
//! private socket, and the source tree's files.
//! Each test binary uses only some of them.
#![allow(dead_code)]

pub mod binary;
pub mod bind;
pub mod dnsmasq;
pub mod e2e;
pub mod engine_http;
pub mod engine_proxy;
pub mod fake_dns;
pub mod images;
pub mod podman;
pub mod ports;
pub mod registry;
pub mod tree;
pub mod unbound;
pub mod world;
