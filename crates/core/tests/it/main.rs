//! The core's integration tests, in one test binary (one module per area).

mod exposition_oracle;
