//! One integration-test binary (each extra tests/*.rs would link the crate again).
//! Every test starts the real server or runs the real binary.

mod admin;
mod auth;
mod authz;
mod backup;
mod browser;
mod bundle;
mod committee;
mod common;
mod decisions;
mod doctor;
mod fuzz;
mod import;
mod layers;
mod packaging;
mod review;
mod robust;
mod roles;
mod slow;
mod tls;
