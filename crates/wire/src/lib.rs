//! The wire types of Tandem's HTTP API under `/api/v1`: every request body and every answer,
//! as the server writes them and the CLI reads them. One module per area of the API, and
//! [`ofrep`] for the answers of the OpenFeature routes under `/ofrep/v1`.
//!
//! These types say what crosses the wire and nothing else: the server converts its store rows
//! and engine results into them (`tandem-server`'s `api::convert`), the CLI deserialises them.
//! The crate depends on `tandem-core` and serde only, so a client stays light. Optional fields
//! are `null` in the JSON unless a field says it is left out; times are Unix milliseconds.

#![deny(missing_docs)]

pub mod admin;
pub mod agents;
pub mod audit;
pub mod changes;
pub mod config;
pub mod dora;
pub mod error;
pub mod flags;
pub mod ideas;
pub mod incidents;
pub mod markets;
pub mod monitor;
pub mod ofrep;
pub mod rollouts;
pub mod runs;
pub mod secrets;

pub use error::{ErrorBody, ErrorDetail};
