//! The engine's integration tests, one module per area, in one test binary so the workspace
//! is linked once for them all.

mod canary;
mod common;
mod control;
mod errors;
mod launch;
mod monitor;
mod pipeline;
mod rollout;
mod scale;
mod shared_blobs;
