//! The `tandem` binary's integration tests, one module per area, in one test binary so the
//! workspace is linked once for them all.

mod agents;
mod audit;
mod chaos;
mod common;
mod completions;
mod db;
mod demo;
mod flag_emergency;
mod flow;
mod hooks;
mod launch;
mod lint_many;
mod local;
mod remote;
mod replicas;
mod rollout_show;
mod secrets;
mod serve;
mod upgrade;
