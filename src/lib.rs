//! pingshen (评审): one binary that runs a professional-title review meeting on a venue LAN.
//!
//! Modules by domain: `package` (import and checks), `accounts` (people, passwords, sessions),
//! `venue` (read models for the pages), `store` (SQLite schema and the write rule), `web`
//! (HTTP), `slips` (printed credentials), `demo` (the built-in session), `cli` (subcommands).

pub mod accounts;
pub mod ballot;
pub mod bundle;
pub mod cli;
pub mod committee;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod error;
pub mod ids;
pub mod package;
pub mod render;
pub mod review;
pub mod rules;
pub mod slips;
pub mod store;
pub mod venue;
pub mod web;
