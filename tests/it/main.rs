//! One integration-test binary (each extra tests/*.rs would link the crate again).
//! Every test starts the real server or runs the real binary.

// Test code: a failed unwrap is a failed test (the crate's policy binds the product code).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::let_underscore_must_use)]

mod admin;
mod auth;
mod authz;
mod backup;
mod blind;
mod browser;
mod bundle;
mod committee;
mod common;
mod day;
mod decisions;
mod doctor;
mod fuzz;
mod handover;
mod import;
mod layers;
mod office;
mod packaging;
mod paper;
mod rehearsal;
mod review;
mod robust;
mod roles;
mod slow;
mod tablet;
mod template;
mod tls;
mod venue_size;
