//! Tandem's domain types and pure logic. Nothing here does I/O or runs async:
//! parsing, validation, DAG order, config layering and rollout planning are
//! plain functions, tested with unit and property tests.

pub mod config;
pub mod dora;
pub mod duration;
pub mod error;
pub mod flags;
pub mod flow;
pub mod gates;
pub mod idea;
pub mod monitor;
pub mod names;
pub mod pipeline;
pub mod platform;
pub mod policy;
pub mod role;
pub mod rollout;
pub mod schedule;
pub mod sso;
pub mod state;

pub use error::{SpecError, SpecErrors};
