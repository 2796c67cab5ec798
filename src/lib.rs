//! pingshen (评审): one binary that runs a professional-title review meeting on a venue LAN.
//!
//! Modules by domain, dependencies one way (held by `tests/it/layers.rs`), lowest first:
//! `error`, `ids`, `rules` (every rule of DOMAIN.md, pure) → `config`, `render` (templates),
//! `sheet` (xlsx/CSV for office staff), `logfile` →
//! `store` (SQLite, schema, the write rule, audit) → `accounts`, `ballot` (the voting protocol
//! of both stages) → `venue` (read models) → `review` (the group stage) → `committee` (the
//! committee stage, the minutes) → `package` (import), `bundle` (the signed result and
//! `verify`), `slips`, `demo` → `web` (HTTP) → `doctor`, `cli` (subcommands).

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
pub mod logfile;
pub mod net;
pub mod office;
pub mod package;
pub mod render;
pub mod review;
pub mod rules;
pub mod sheet;
pub mod sign;
pub mod slips;
pub mod store;
pub mod venue;
pub mod web;
