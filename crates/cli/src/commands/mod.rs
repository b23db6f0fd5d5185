//! The `tandem` subcommands other than `serve`, `demo` and a local `run`: one file per command
//! family. Each talks to a server through the HTTP API ([`crate::client`]) and reads its answers
//! as `tandem-wire` types, but `lint`, which checks a file here. Each file's own comment names
//! the subcommands it holds and the routes it calls.

pub mod agents;
pub mod artifacts;
pub mod audit;
pub mod config;
pub mod db;
pub mod dora;
pub mod flag_emergency;
pub mod flags;
pub mod flow;
pub mod health;
pub mod ideas;
pub mod incidents;
pub mod lint;
pub mod markets;
pub mod releases;
pub mod rollback;
pub mod rollouts;
pub mod runs;
pub mod secrets;
pub mod tokens;

/// A field of an API answer as display text, written as its JSON would be (`-` when absent):
/// the same text whether the answer was read typed or as JSON.
pub fn show<T: serde::Serialize>(v: &T) -> String {
    text(&serde_json::to_value(v).unwrap_or_default())
}

/// A JSON field as display text (`-` when absent).
pub fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "-".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
