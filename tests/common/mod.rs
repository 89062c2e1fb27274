//! Helpers shared by the integration tests: an in-process fake DNS server for fault
//! injection, and a real dnsmasq. Each test binary uses only some of them.
#![allow(dead_code)]

pub mod dnsmasq;
pub mod fake_dns;
