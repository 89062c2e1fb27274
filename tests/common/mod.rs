//! Helpers shared by the integration tests: the local test image and a fault-injecting
//! proxy in front of the real engine. Each test binary uses only some of them.
#![allow(dead_code)]

pub mod engine_proxy;
pub mod images;
