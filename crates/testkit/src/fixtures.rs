//! Fixtures more than one crate's tests read, kept once here.

/// A `tandem.yml` with mistakes at every level (unknown fields in the service, a job, a step and
/// a gate check; a cycle; a missing job): core checks that its parser reports them all at once,
/// the CLI that `tandem lint` prints them all.
pub const MANY_MISTAKES: &str = "\
service: shop
servce: typo
pipeline:
  jobs:
    build:
      needs: [test, lint]
      timout: 5m
      steps:
        - { run: cargo build, shel: bash }
    test:
      needs: [build]
      steps: [{ run: cargo test }]
gates:
  metrics:
    checks:
      - name: errors
        error-ratio: { errors: a, total: b }
        max: 0.02
        vs-previos: 1.5
";
