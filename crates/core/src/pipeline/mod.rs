//! `tandem.yml`: a service's pipeline, deploy method, gates and config schema.

pub mod expr;
pub(crate) mod keys;
pub mod matrix;

use crate::duration::parse_duration;
use crate::error::{Collector, SpecErrors};
use crate::names::{is_name, is_secret_name};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A validated `tandem.yml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub service: String,
    pub env: BTreeMap<String, String>,
    /// Jobs in an order where each comes after everything it needs.
    pub jobs: Vec<JobSpec>,
    pub deploy: Option<DeploySpec>,
    pub gates: Gates,
    pub config_schema: Option<String>,
    /// How live markets are watched once deployed (`monitor:`); defaults for older releases.
    #[serde(default)]
    pub monitor: crate::monitor::MonitorSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub name: String,
    pub needs: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// `if:` — the job runs only when this condition holds (see [`expr`]).
    #[serde(default)]
    pub condition: Option<String>,
    /// The longest the job may run; then its steps are stopped and it fails.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// How many times a failed job is tried again.
    #[serde(default)]
    pub retry: u32,
    /// A failure of this job does not fail the run, and jobs that need it still run.
    #[serde(default)]
    pub continue_on_error: bool,
    /// Names of secrets the job's steps get as environment variables.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The job runs once per combination of these values.
    #[serde(default)]
    pub matrix: BTreeMap<String, matrix::Axis>,
    pub steps: Vec<StepSpec>,
    /// Paths or globs, relative to the workspace, kept after the job passes.
    pub artifacts: Vec<String>,
    /// How long artifacts are kept when no release references them.
    #[serde(default)]
    pub retention: Option<Duration>,
    /// Folders kept between runs, restored before the steps when the key files are unchanged.
    #[serde(default)]
    pub cache: Option<CacheSpec>,
    /// Resource limits applied to every process of every step.
    #[serde(default)]
    pub limits: Limits,
    /// `runs-on`: the labels an agent must have to take the job (all of them); none: any agent.
    #[serde(default)]
    pub runs_on: Vec<String>,
    /// `agent-lost`: what happens when the agent running the job stops answering.
    #[serde(default)]
    pub agent_lost: AgentLost,
}

/// What happens to a job whose agent stopped answering (died, lost the network).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentLost {
    /// Run it again on another agent, at most [`AgentLost::MAX_RETRIES`] times.
    #[default]
    Retry,
    /// Fail it (for jobs that must not run twice, such as one that publishes).
    Fail,
}

impl AgentLost {
    /// How many times a job is given to another agent after losing one.
    pub const MAX_RETRIES: i64 = 2;
}

/// Whether `label` can be an agent's label: 1 to 64 characters, letters, digits and `-_.=/:`
/// (`linux`, `x86_64`, `region=eu-west`).
pub fn is_label(label: &str) -> bool {
    !label.is_empty() && label.len() <= 64 && label.chars().all(|c| c.is_ascii_alphanumeric() || "-_.=/:".contains(c))
}

/// `limits: { memory: 2G, file-size: 1G, cpu-time: 10m, open-files: 1024 }`: each a
/// per-process limit (address space, largest file written, CPU seconds, open descriptors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub memory_bytes: Option<u64>,
    pub file_size_bytes: Option<u64>,
    pub cpu_seconds: Option<u64>,
    pub open_files: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    file_size: Option<String>,
    #[serde(default)]
    cpu_time: Option<String>,
    #[serde(default)]
    open_files: Option<u64>,
}

/// Parses a size such as `512M`, `2G` or `1048576` (bytes; K, M, G, T are powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("size `{text}` is not valid: expected a number and a unit, such as `512M` or `2G`"))?;
    let factor: u64 = match unit.trim_end_matches(['i', 'B']).to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => {
            return Err(format!(
                "size `{text}` has unknown unit `{unit}`: expected K, M, G or T"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("size `{text}` is too large"))
}

impl RawLimits {
    fn check(&self) -> Result<Limits, String> {
        Ok(Limits {
            memory_bytes: self
                .memory
                .as_deref()
                .map(parse_size)
                .transpose()
                .map_err(|e| format!("`memory`: {e}"))?,
            file_size_bytes: self
                .file_size
                .as_deref()
                .map(parse_size)
                .transpose()
                .map_err(|e| format!("`file-size`: {e}"))?,
            cpu_seconds: self
                .cpu_time
                .as_deref()
                .map(|t| parse_duration(t).map(|d| d.as_secs().max(1)))
                .transpose()
                .map_err(|e| format!("`cpu-time`: {e}"))?,
            open_files: self.open_files,
        })
    }
}

/// `cache: { key: [Cargo.lock], paths: [target] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    /// Files whose contents (hashed) decide whether a saved cache fits.
    pub key: Vec<String>,
    /// Files or folders saved after a green job and restored before the next one.
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    #[serde(default)]
    pub name: Option<String>,
    pub run: String,
    /// `bash`, `sh`, or any program that takes a script file (default: `sh -e`).
    #[serde(default)]
    pub shell: Option<String>,
    #[serde(default)]
    pub working_directory: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// `if:` — the step runs only when this condition holds.
    #[serde(default)]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Driver {
    Process,
    Command,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploySpec {
    pub driver: Driver,
    /// `process`: the program and its arguments, with `{port}` and `{artifact:NAME}`.
    /// `command`: a shell command run once per market, with `TANDEM_*` variables.
    pub run: String,
    /// `command` driver: the longest the command may run, such as `10m` (default 10m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// `command` driver: where a market's deployment answers, with `{market}`, such as
    /// `https://{market}.shop.example`; the probe and metric gates use it. Without it the
    /// command's exit status is the only gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `command` driver: run the command on an agent with these labels (`{market}` and
    /// `{region}` filled in per market, such as `region={region}`), so a market the server
    /// cannot reach is deployed from one that can. Empty: on the server.
    #[serde(default, rename = "runs-on", skip_serializing_if = "Vec::is_empty")]
    pub runs_on: Vec<String>,
    /// `command` driver with `gates.canary`: the shell command that gives the market's load
    /// balancer the new release's share of traffic, run at each step with `TANDEM_ACTION=shift`
    /// and `TANDEM_WEIGHT` (the percentage; `0` sends everything back to the stable release,
    /// `100` hands the market to the new one). Run where the deploy runs, with the same facts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<String>,
}

/// Default longest run of a `command` driver's command.
pub const DEFAULT_DEPLOY_TIMEOUT: Duration = Duration::from_secs(600);

impl DeploySpec {
    /// The `command` driver's timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
            .as_deref()
            .and_then(|t| parse_duration(t).ok())
            .unwrap_or(DEFAULT_DEPLOY_TIMEOUT)
    }

    /// The `command` driver's URL for a market.
    pub fn url_for(&self, market: &str) -> Option<String> {
        self.url.as_ref().map(|u| u.replace("{market}", market))
    }

    /// The labels of the agent that deploys `market` (in `region`); empty: the server does.
    pub fn runs_on_for(&self, market: &str, region: &str) -> Vec<String> {
        self.runs_on
            .iter()
            .map(|l| l.replace("{market}", market).replace("{region}", region))
            .collect()
    }
}

pub use crate::gates::{Probe, ProbeSpec};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Gates {
    pub probe: ProbeSpec,
    /// How long a market must stay healthy after its probe passes.
    pub bake: Duration,
    /// Checks on the service's Prometheus metrics, judged after the probe passes (see [`crate::gates`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<crate::gates::MetricGates>,
    /// Real traffic shifted to the new release in steps, each judged by `metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<crate::gates::Canary>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    service: Spanned<String>,
    pipeline: RawPipeline,
    #[serde(default)]
    deploy: Option<Spanned<DeploySpec>>,
    #[serde(default)]
    gates: Option<RawGates>,
    #[serde(default)]
    config: Option<RawConfig>,
    #[serde(default)]
    monitor: Option<Spanned<crate::monitor::RawMonitor>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    #[serde(default)]
    env: BTreeMap<String, String>,
    jobs: Spanned<BTreeMap<String, Spanned<RawJob>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawJob {
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default, rename = "if")]
    condition: Option<Spanned<String>>,
    #[serde(default)]
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    retry: u32,
    #[serde(default)]
    continue_on_error: bool,
    #[serde(default)]
    secrets: Vec<Spanned<String>>,
    #[serde(default)]
    matrix: Option<Spanned<BTreeMap<String, matrix::Axis>>>,
    steps: Spanned<Vec<RawStep>>,
    #[serde(default)]
    artifacts: Option<Spanned<RawArtifacts>>,
    #[serde(default)]
    cache: Option<Spanned<CacheSpec>>,
    #[serde(default)]
    limits: Option<Spanned<RawLimits>>,
    #[serde(default)]
    runs_on: Option<Spanned<RunsOn>>,
    #[serde(default)]
    agent_lost: Option<Spanned<AgentLost>>,
}

/// `runs-on: gpu` or `runs-on: [linux, gpu]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RunsOn {
    One(String),
    Many(Vec<String>),
}

impl RunsOn {
    fn labels(&self) -> Vec<String> {
        match self {
            RunsOn::One(l) => vec![l.clone()],
            RunsOn::Many(ls) => ls.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStep {
    #[serde(default)]
    name: Option<String>,
    run: Spanned<String>,
    #[serde(default)]
    shell: Option<Spanned<String>>,
    #[serde(default)]
    working_directory: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default, rename = "if")]
    condition: Option<Spanned<String>>,
}

/// `artifacts: [paths…]` or `artifacts: { paths: […], retention: 30d }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawArtifacts {
    Paths(Vec<String>),
    Full(RawArtifactSet),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArtifactSet {
    paths: Vec<String>,
    #[serde(default)]
    retention: Option<String>,
}

/// `artifacts` is an untagged enum, which serde cannot describe: its two shapes for the first pass.
const UNTAGGED: &[keys::Untagged] = &[
    keys::Untagged {
        at: &["pipeline", "jobs", "*", "artifacts"],
        one_of: &[keys::expect_at::<Vec<String>>, keys::expect_at::<RawArtifactSet>],
    },
    keys::Untagged {
        at: &["pipeline", "jobs", "*", "runs-on"],
        one_of: &[keys::expect_at::<String>, keys::expect_at::<Vec<String>>],
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGates {
    #[serde(default)]
    probe: Option<crate::gates::RawProbe>,
    #[serde(default)]
    bake: Option<Spanned<String>>,
    #[serde(default)]
    metrics: Option<crate::gates::RawMetricGates>,
    #[serde(default)]
    canary: Option<Spanned<crate::gates::RawCanary>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schema: String,
}

/// Parses and validates a `tandem.yml`; `file` names it in errors.
///
/// Every error is reported at once: structural ones (unknown keys, keys given twice, values
/// of the wrong shape, see [`keys`]) together with those found in the rest of the file.
pub fn parse_service_spec(file: &str, text: &str) -> Result<ServiceSpec, SpecErrors> {
    let (raw, structural) = keys::read::<RawSpec>(file, text, UNTAGGED)?;
    let mut errors = Collector::new(file);
    for e in structural {
        errors.push_at(e.line, e.column, e.message);
    }

    if !is_name(&raw.service.value) {
        errors.push(
            &raw.service.referenced,
            format!(
                "service name `{}` is not valid: expected lower-case letters, digits and dashes",
                raw.service.value
            ),
        );
    }
    let jobs = &raw.pipeline.jobs;
    if jobs.value.is_empty() {
        errors.push(
            &jobs.referenced,
            "the pipeline has no job: expected at least one under `jobs`",
        );
    }
    for (name, job) in &jobs.value {
        if !is_name(name) {
            errors.push(
                &job.referenced,
                format!("job name `{name}` is not valid: expected lower-case letters, digits, `-` and `_`"),
            );
        }
        if job.value.steps.value.is_empty() {
            errors.push(&job.value.steps.referenced, format!("job `{name}` has no step"));
        }
        check_job(&mut errors, name, &job.value);
        for need in &job.value.needs {
            if need.value == *name {
                errors.push(&need.referenced, format!("job `{name}` needs itself"));
            } else if !jobs.value.contains_key(&need.value) {
                errors.push(
                    &need.referenced,
                    format!("job `{name}` needs unknown job `{}`", need.value),
                );
            }
        }
    }
    let order = match order_jobs(&jobs.value) {
        Ok(order) => order,
        Err(cycle) => {
            let at = jobs
                .value
                .get(&cycle[0])
                .map(|j| j.referenced)
                .unwrap_or(jobs.referenced);
            errors.push(&at, format!("jobs form a cycle through `needs`: {}", cycle.join(" → ")));
            Vec::new()
        }
    };

    if let Some(d) = &raw.deploy {
        check_deploy(&mut errors, d);
    }
    let mut gates = Gates::default();
    if let Some(g) = raw.gates {
        if let Some(p) = g.probe {
            gates.probe = crate::gates::check_probe(&mut errors, p);
        }
        if let Some(bake) = g.bake {
            match parse_duration(&bake.value) {
                Ok(d) => gates.bake = d,
                Err(e) => errors.push(&bake.referenced, e),
            }
        }
        if let Some(m) = g.metrics {
            gates.metrics = Some(crate::gates::check_metric_gates(&mut errors, m));
        }
        if let Some(c) = g.canary {
            if gates.metrics.is_none() {
                errors.push(
                    &c.referenced,
                    "`gates.canary` needs `gates.metrics`: each step is judged by its checks on the new release's share of traffic",
                );
            }
            match raw.deploy.as_ref().map(|d| &d.value) {
                Some(d) if d.driver == Driver::Process => {}
                Some(d) if d.driver == Driver::Command => {
                    if d.shift.is_none() {
                        errors.push(
                            &c.referenced,
                            "`gates.canary` with the `command` driver needs `deploy.shift`: the command that gives your load balancer the new release's share (`TANDEM_WEIGHT`) at each step",
                        );
                    }
                    if d.url.is_none() {
                        errors.push(
                            &c.referenced,
                            "`gates.canary` with the `command` driver needs `deploy.url`: where the new release alone answers, for its probe and its metrics",
                        );
                    }
                }
                _ => errors.push(
                    &c.referenced,
                    "`gates.canary` needs a `deploy` section: the `process` driver (Tandem's front shifts the traffic) or the `command` driver with `deploy.shift`",
                ),
            }
            gates.canary = Some(crate::gates::check_canary(&mut errors, c.value));
        }
    }

    let monitor = match &raw.monitor {
        Some(m) => crate::monitor::check_monitor(&mut errors, m),
        None => crate::monitor::MonitorSpec::default(),
    };

    let mut by_name: HashMap<String, Spanned<RawJob>> = raw.pipeline.jobs.value.into_iter().collect();
    let jobs = order
        .iter()
        .filter_map(|name| by_name.remove(name).map(|j| (name, j.value)))
        .map(|(name, j)| {
            let (artifacts, retention) = match j.artifacts.map(|a| a.value) {
                None => (Vec::new(), None),
                Some(RawArtifacts::Paths(p)) => (p, None),
                Some(RawArtifacts::Full(RawArtifactSet { paths, retention })) => {
                    (paths, retention.and_then(|r| parse_duration(&r).ok()))
                }
            };
            JobSpec {
                name: name.clone(),
                needs: j.needs.into_iter().map(|n| n.value).collect(),
                env: j.env,
                condition: j.condition.map(|c| c.value),
                timeout: j.timeout.and_then(|t| parse_duration(&t.value).ok()),
                retry: j.retry,
                continue_on_error: j.continue_on_error,
                secrets: j.secrets.into_iter().map(|s| s.value).collect(),
                matrix: j.matrix.map(|m| m.value).unwrap_or_default(),
                steps: j
                    .steps
                    .value
                    .into_iter()
                    .map(|st| StepSpec {
                        name: st.name,
                        run: st.run.value,
                        shell: st.shell.map(|s| s.value),
                        working_directory: st.working_directory.map(|w| w.value),
                        env: st.env,
                        condition: st.condition.map(|c| c.value),
                    })
                    .collect(),
                artifacts,
                retention,
                cache: j.cache.map(|c| c.value),
                limits: j.limits.and_then(|l| l.value.check().ok()).unwrap_or_default(),
                runs_on: j.runs_on.map(|r| r.value.labels()).unwrap_or_default(),
                agent_lost: j.agent_lost.map(|a| a.value).unwrap_or_default(),
            }
        })
        .collect();
    errors.finish(ServiceSpec {
        service: raw.service.value,
        env: raw.pipeline.env,
        jobs,
        deploy: raw.deploy.map(|d| d.value),
        gates,
        config_schema: raw.config.map(|c| c.schema),
        monitor,
    })
}

/// Checks the `deploy` section: a command driver's timeout and URL, no URL for processes.
fn check_deploy(errors: &mut Collector<'_>, deploy: &Spanned<DeploySpec>) {
    let (d, at) = (&deploy.value, &deploy.referenced);
    if d.run.trim().is_empty() {
        errors.push(at, "`deploy.run` is empty: expected the command that deploys a market");
    }
    if !d.runs_on.is_empty() && d.driver != Driver::Command {
        errors.push(
            at,
            "`deploy.runs-on` applies to the `command` driver only: a process runs beside the server",
        );
    }
    for label in d.runs_on_for("fr", "region") {
        if !is_label(&label) {
            errors.push(
                at,
                format!("`deploy.runs-on`: label `{label}` is not valid: expected letters, digits or `-_.=/:`, with {{market}} or {{region}}"),
            );
        }
    }
    if let Some(t) = &d.timeout {
        if d.driver != Driver::Command {
            errors.push(at, "`deploy.timeout` applies to the `command` driver only");
        } else if let Err(e) = parse_duration(t) {
            errors.push(at, format!("`deploy.timeout`: {e}"));
        }
    }
    if let Some(shift) = &d.shift {
        if d.driver != Driver::Command {
            errors.push(
                at,
                "`deploy.shift` applies to the `command` driver only: with the `process` driver Tandem's front shifts the traffic",
            );
        } else if shift.trim().is_empty() {
            errors.push(
                at,
                "`deploy.shift` is empty: expected the command that sets the new release's share of traffic",
            );
        }
    }
    if let Some(url) = &d.url {
        if d.driver != Driver::Command {
            errors.push(
                at,
                "`deploy.url` applies to the `command` driver only: a process is probed on its own port",
            );
        } else if !(url.starts_with("http://") || url.starts_with("https://")) {
            errors.push(
                at,
                format!("`deploy.url` `{url}` is not valid: expected an http:// or https:// URL"),
            );
        }
    }
}

/// Checks one job's fields; every problem goes to `errors` with its place.
fn check_job(errors: &mut Collector<'_>, name: &str, job: &RawJob) {
    if let Some(c) = &job.condition {
        check_condition(errors, c);
    }
    if let Some(t) = &job.timeout
        && let Err(e) = parse_duration(&t.value)
    {
        errors.push(&t.referenced, format!("`timeout`: {e}"));
    }
    if let Some(r) = &job.runs_on {
        for label in r.value.labels() {
            if !is_label(&label) {
                errors.push(
                    &r.referenced,
                    format!(
                        "`runs-on` of job `{name}`: label `{label}` is not valid: expected 1 to 64 letters, digits or `-_.=/:`"
                    ),
                );
            }
        }
    }
    if job.retry > 10 {
        errors.push(
            &job.steps.referenced,
            format!("job `{name}` retries {} times: at most 10", job.retry),
        );
    }
    for secret in &job.secrets {
        if !is_secret_name(&secret.value) {
            errors.push(
                &secret.referenced,
                format!(
                    "secret name `{}` is not valid: expected upper-case letters, digits and `_`",
                    secret.value
                ),
            );
        }
    }
    if let Some(m) = &job.matrix
        && let Err(e) = matrix::check(&m.value)
    {
        errors.push(&m.referenced, format!("`matrix` of job `{name}`: {e}"));
    }
    if let Some(l) = &job.limits
        && let Err(e) = l.value.check()
    {
        errors.push(&l.referenced, format!("`limits` of job `{name}`: {e}"));
    }
    if let Some(c) = &job.cache {
        if c.value.paths.is_empty() {
            errors.push(&c.referenced, "`cache` has no `paths`: name the folders to keep");
        }
        for p in c.value.key.iter().chain(&c.value.paths) {
            if p.is_empty() || p.starts_with('/') || p.split('/').any(|part| part == "..") {
                errors.push(
                    &c.referenced,
                    format!("cache path `{p}` leaves the workspace: use a path relative to it"),
                );
            }
        }
    }
    if let Some(a) = &job.artifacts {
        let (paths, retention) = match &a.value {
            RawArtifacts::Paths(p) => (p, None),
            RawArtifacts::Full(set) => (&set.paths, set.retention.as_ref()),
        };
        for path in paths {
            if path.starts_with('/') || path.split('/').any(|part| part == "..") {
                errors.push(
                    &a.referenced,
                    format!("artifact `{path}` leaves the workspace: use a path relative to it"),
                );
            } else if let Err(e) = globset::Glob::new(path) {
                errors.push(
                    &a.referenced,
                    format!("artifact `{path}` is not a valid glob: {}", e.kind()),
                );
            }
        }
        if let Some(r) = retention
            && let Err(e) = parse_duration(r)
        {
            errors.push(&a.referenced, format!("artifact `retention`: {e}"));
        }
    }
    for step in &job.steps.value {
        if step.run.value.trim().is_empty() {
            errors.push(
                &step.run.referenced,
                format!("a step of job `{name}` has an empty `run`"),
            );
        }
        if let Some(c) = &step.condition {
            check_condition(errors, c);
        }
        if let Some(wd) = &step.working_directory
            && (wd.value.starts_with('/') || wd.value.split('/').any(|p| p == ".."))
        {
            errors.push(
                &wd.referenced,
                format!(
                    "`working-directory: {}` leaves the workspace: use a path relative to it",
                    wd.value
                ),
            );
        }
        if let Some(sh) = &step.shell
            && sh.value.trim().is_empty()
        {
            errors.push(
                &sh.referenced,
                "`shell` is empty: use `bash`, `sh`, or a program that runs a script file",
            );
        }
    }
}

fn check_condition(errors: &mut Collector<'_>, c: &Spanned<String>) {
    if let Err(e) = expr::parse_condition(&c.value) {
        let at = c.referenced;
        errors.push_at(
            at.line(),
            at.column() + e.offset as u64,
            format!("in `if: {}`: {}", c.value, e.message),
        );
    }
}

/// Orders jobs so each comes after all it needs (ties broken by name, so the order is stable).
/// Needs naming unknown jobs are ignored here; on a cycle, returns the jobs on it.
fn order_jobs(jobs: &BTreeMap<String, Spanned<RawJob>>) -> Result<Vec<String>, Vec<String>> {
    let mut remaining: BTreeMap<&str, Vec<&str>> = jobs
        .iter()
        .map(|(name, j)| {
            let needs = j
                .value
                .needs
                .iter()
                .map(|n| n.value.as_str())
                .filter(|n| jobs.contains_key(*n) && n != name)
                .collect();
            (name.as_str(), needs)
        })
        .collect();
    let mut order: Vec<String> = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<&str> = remaining
            .iter()
            .filter(|(_, needs)| needs.iter().all(|n| order.iter().any(|o| o == n)))
            .map(|(name, _)| *name)
            .collect();
        if ready.is_empty() {
            let mut cycle: Vec<String> = remaining.keys().map(|s| s.to_string()).collect();
            cycle.push(cycle[0].clone());
            return Err(cycle);
        }
        for name in ready {
            remaining.remove(name);
            order.push(name.to_string());
        }
    }
    Ok(order)
}

/// The name an artifact is known by in deploy commands: its file name.
pub fn artifact_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Turns a deploy `run` template into a program and its arguments, without a shell:
/// `{artifact:NAME}` becomes that artifact's path and `{port}` the market's port.
pub fn render_deploy_command(
    template: &str,
    artifacts: &HashMap<String, String>,
    port: u16,
) -> Result<Vec<String>, String> {
    let mut argv = Vec::new();
    for word in template.split_whitespace() {
        let mut out = String::new();
        let mut rest = word;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| format!("deploy command `{template}`: `{{` without a closing `}}`"))?;
            let key = &rest[start + 1..start + end];
            match key.split_once(':') {
                None if key == "port" => out.push_str(&port.to_string()),
                Some(("artifact", name)) => out.push_str(artifacts.get(name).ok_or_else(|| {
                    format!("deploy command names artifact `{name}`, which the release does not have")
                })?),
                _ => {
                    return Err(format!(
                        "deploy command `{template}`: unknown placeholder `{{{key}}}`: expected {{port}} or {{artifact:NAME}}"
                    ));
                }
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        argv.push(out);
    }
    if argv.is_empty() {
        return Err("deploy command is empty".into());
    }
    Ok(argv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHOP: &str = "\
service: shop
pipeline:
  env: { CARGO_TERM_COLOR: never }
  jobs:
    build:
      needs: [test]
      steps:
        - run: cargo build --release
      artifacts: [target/release/shop]
    test:
      steps:
        - run: cargo test
deploy:
  driver: process
  run: \"{artifact:shop} --port {port}\"
gates:
  probe: { path: /healthz, successes: 3, failures: 2 }
  bake: 30s
config:
  schema: config/schema.json
";

    #[test]
    fn parses_the_documented_shape() {
        let s = parse_service_spec("tandem.yml", SHOP).unwrap();
        assert_eq!(
            s.jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(),
            ["test", "build"]
        );
        assert_eq!(s.gates.probe.base.successes, 3);
        assert_eq!(s.gates.bake, Duration::from_secs(30));
        assert_eq!(s.deploy.unwrap().driver, Driver::Process);
        assert_eq!(s.config_schema.as_deref(), Some("config/schema.json"));
    }

    #[test]
    fn a_cycle_and_an_unknown_need_are_both_reported() {
        let text = "\
service: shop
pipeline:
  jobs:
    a:
      needs: [b]
      steps: [{ run: x }]
    b:
      needs: [a, c]
      steps: [{ run: y }]
";
        let err = parse_service_spec("tandem.yml", text).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains("tandem.yml:8:18: job `b` needs unknown job `c`"),
            "{shown}"
        );
        assert!(
            shown.contains("jobs form a cycle through `needs`: a → b → a"),
            "{shown}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let err = parse_service_spec(
            "tandem.yml",
            "service: shop\npipeline:\n  jobs:\n    a:\n      stepz: []\n",
        )
        .unwrap_err();
        assert_eq!(err.0[0].line, 5, "{err}");
        assert!(err.0[0].message.contains("stepz"), "{err}");
    }

    use tandem_testkit::fixtures::MANY_MISTAKES;

    #[test]
    fn structural_and_other_mistakes_are_reported_together() {
        let err = parse_service_spec("tandem.yml", MANY_MISTAKES).unwrap_err();
        let shown: Vec<String> = err.0.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "tandem.yml:2:1: unknown field `servce`, expected one of `service`, `pipeline`, `deploy`, `gates`, `config`, `monitor` (did you mean `service`?)",
                "tandem.yml:6:7: jobs form a cycle through `needs`: build → test → build",
                "tandem.yml:6:21: job `build` needs unknown job `lint`",
                "tandem.yml:7:7: unknown field `timout`, expected one of `needs`, `env`, `if`, `timeout`, `retry`, `continue-on-error`, `secrets`, `matrix`, `steps`, `artifacts`, `cache`, `limits`, `runs-on`, `agent-lost` (did you mean `timeout`?)",
                "tandem.yml:9:31: unknown field `shel`, expected one of `name`, `run`, `shell`, `working-directory`, `env`, `if` (did you mean `shell`?)",
                "tandem.yml:19:9: unknown field `vs-previos`, expected one of `name`, `error-ratio`, `latency`, `max`, `vs-previous` (did you mean `vs-previous`?)",
            ]
        );
    }

    #[test]
    fn a_wrong_shape_is_reported_with_the_rest() {
        let text = "\
service: shop
pipeline:
  jobs:
    a:
      needs: b
      steps: [{ run: x }]
      cache: target
deploy: { driver: proces, run: x }
";
        let err = parse_service_spec("tandem.yml", text).unwrap_err();
        let shown = err.to_string();
        for expected in [
            "tandem.yml:5:14: `pipeline.jobs.a.needs`: expected a list, found a string (write `[b]` for a list of one)",
            "tandem.yml:7:14: `pipeline.jobs.a.cache`: expected a mapping, found a string",
            "tandem.yml:8:19: unknown variant `proces`, expected `process` or `command` (did you mean `process`?)",
        ] {
            assert!(shown.contains(expected), "expected `{expected}` in:\n{shown}");
        }
        assert_eq!(err.0.len(), 3, "{shown}");
    }

    #[test]
    fn every_level_of_the_file_is_checked_for_unknown_keys() {
        use keys::{Expect, Step};
        let key = |k: &str| Step::Key(k.to_string());
        let levels: [(&[Step], &str); 14] = [
            (&[], "pipeline"),
            (&[key("pipeline")], "jobs"),
            (&[key("pipeline"), key("jobs"), key("any")], "needs"),
            (
                &[key("pipeline"), key("jobs"), key("any"), key("steps"), Step::Item(0)],
                "working-directory",
            ),
            (&[key("pipeline"), key("jobs"), key("any"), key("cache")], "paths"),
            (&[key("pipeline"), key("jobs"), key("any"), key("limits")], "cpu-time"),
            (&[key("deploy")], "driver"),
            (&[key("gates")], "bake"),
            (&[key("gates"), key("probe")], "successes"),
            (&[key("gates"), key("metrics")], "min-requests"),
            (
                &[key("gates"), key("metrics"), key("checks"), Step::Item(0)],
                "vs-previous",
            ),
            (
                &[
                    key("gates"),
                    key("metrics"),
                    key("checks"),
                    Step::Item(0),
                    key("error-ratio"),
                ],
                "total",
            ),
            (
                &[
                    key("gates"),
                    key("metrics"),
                    key("checks"),
                    Step::Item(0),
                    key("latency"),
                ],
                "quantile",
            ),
            (&[key("config")], "schema"),
        ];
        for (path, field) in levels {
            match keys::expect_at::<RawSpec>(path) {
                Expect::Fields { names, strict: true } => assert!(names.contains(&field), "{path:?}: {names:?}"),
                other => panic!("{path:?}: {other:?}"),
            }
        }
        assert!(matches!(
            keys::expect_at::<RawArtifactSet>(&[]),
            Expect::Fields {
                names: ["paths", "retention"],
                strict: true
            }
        ));
    }

    #[test]
    fn the_first_pass_refuses_only_what_serde_refuses() {
        let job =
            |fields: &str| format!("service: s\npipeline:\n  jobs:\n    a:\n      steps: [{{ run: x }}]\n{fields}");
        for fields in [
            "      needs: b\n",
            "      env: [A]\n",
            "      retry: [1]\n",
            "      matrix: x\n",
            "      cache: target\n",
            "      cache: [[Cargo.lock], [target]]\n",
            "      limits: 3\n",
            "      artifacts: x\n",
            "      artifacts: { paths: [a], retension: 1d }\n",
            "      secrets: { A: b }\n",
            "      if: [x]\n",
            "      unknown: 1\n",
            "    b:\n      steps: [{ run: x }]\n    b:\n      steps: [{ run: y }]\n",
        ] {
            let text = job(fields);
            let Err(err) = keys::read::<RawSpec>("t.yml", &text, UNTAGGED)
                .map(|(_, errors)| errors)
                .and_then(|e| if e.is_empty() { Ok(()) } else { Err(SpecErrors(e)) })
            else {
                panic!("the first pass missed:\n{text}");
            };
            assert!(
                serde_saphyr::from_str::<RawSpec>(&text).is_err(),
                "the first pass refuses what serde accepts ({err}):\n{text}"
            );
        }
        for text in [
            SHOP,
            "service: s\npipeline:\n  jobs:\n    a:\n      if:\n      cache:\n      steps:\n        - run: x\n",
            "service: s\npipeline:\n  jobs:\n    a:\n      steps: [{ run: 1.10 }]\n      artifacts: [a]\n      matrix: { market: all }\n",
        ] {
            let read = keys::read::<RawSpec>("t.yml", text, UNTAGGED).map(|(_, e)| e);
            assert!(matches!(&read, Ok(e) if e.is_empty()), "{read:?}\n{text}");
        }
    }

    #[test]
    fn yaml_syntax_errors_say_where_what_was_expected_and_what_was_found() {
        let unclosed = "service: s\npipeline:\n  jobs:\n    a:\n      steps:\n        - run: [unclosed\n";
        let err = parse_service_spec("tandem.yml", unclosed).unwrap_err().to_string();
        assert!(
            err.contains(
                "tandem.yml:6:16: expected a single value (text), found `[unclosed` (a `[` list must close with `]`)"
            ),
            "{err}"
        );
        let misplaced = "service: s\npipeline:\n  jobs:\n    a:\n    steps:\n        - run: x\n  - y\n";
        let err = parse_service_spec("tandem.yml", misplaced).unwrap_err().to_string();
        assert!(
            err.contains("tandem.yml:4:6: expected a mapping: `key: value` lines"),
            "{err}"
        );
    }

    #[test]
    fn runs_on_takes_one_label_or_a_list_and_refuses_bad_labels() {
        let one = "service: s\npipeline:\n  jobs:\n    a:\n      runs-on: gpu\n      steps: [{ run: x }]\n";
        let s = parse_service_spec("tandem.yml", one).unwrap();
        assert_eq!(
            (s.jobs[0].runs_on.as_slice(), s.jobs[0].agent_lost),
            (&["gpu".to_string()][..], AgentLost::Retry)
        );
        let bad = "service: s\npipeline:\n  jobs:\n    a:\n      runs-on: [linux, 'two words']\n      agent-lost: maybe\n      steps: [{ run: x }]\n";
        let err = parse_service_spec("tandem.yml", bad).unwrap_err().to_string();
        assert!(err.contains("tandem.yml:5:"), "{err}");
        assert!(err.contains("label `two words` is not valid"), "{err}");
        assert!(
            err.contains("tandem.yml:6:19: unknown variant `maybe`, expected `retry` or `fail`"),
            "{err}"
        );
    }

    #[test]
    fn every_job_and_step_field_parses() {
        let text = "\
service: shop
pipeline:
  env: { A: pipeline }
  jobs:
    test:
      if: branch == 'main' || changed('src/**')
      timeout: 10m
      retry: 2
      continue-on-error: true
      secrets: [REGISTRY_TOKEN]
      matrix: { market: all, toolchain: [stable, beta] }
      env: { B: job }
      steps:
        - name: unit
          run: cargo test
          shell: bash
          working-directory: crates/shop
          env: { C: step }
          if: failure()
      artifacts: { paths: ['target/*.xml', report.html], retention: 7d }
      cache: { key: [Cargo.lock], paths: [target] }
      limits: { memory: 2G, file-size: 512M, cpu-time: 10m, open-files: 1024 }
      runs-on: [linux, region=eu-west]
      agent-lost: fail
";
        let s = parse_service_spec("tandem.yml", text).unwrap();
        let job = &s.jobs[0];
        assert_eq!(job.runs_on, ["linux", "region=eu-west"]);
        assert_eq!(job.agent_lost, AgentLost::Fail);
        assert_eq!(job.timeout, Some(Duration::from_secs(600)));
        assert_eq!((job.retry, job.continue_on_error), (2, true));
        assert_eq!(job.secrets, ["REGISTRY_TOKEN"]);
        assert_eq!(job.matrix.len(), 2);
        assert_eq!(job.artifacts, ["target/*.xml", "report.html"]);
        assert_eq!(job.retention, Some(Duration::from_secs(7 * 86400)));
        assert_eq!(job.cache.as_ref().unwrap().paths, ["target"]);
        assert_eq!(job.limits.memory_bytes, Some(2 << 30));
        assert_eq!(job.limits.file_size_bytes, Some(512 << 20));
        assert_eq!((job.limits.cpu_seconds, job.limits.open_files), (Some(600), Some(1024)));
        let step = &job.steps[0];
        assert_eq!(step.shell.as_deref(), Some("bash"));
        assert_eq!(step.working_directory.as_deref(), Some("crates/shop"));
        assert_eq!(step.condition.as_deref(), Some("failure()"));
    }

    #[test]
    fn bad_fields_are_all_reported_with_their_place() {
        let text = "\
service: shop
pipeline:
  jobs:
    test:
      if: branch = 'main'
      timeout: soon
      secrets: [lower]
      matrix: { os: all }
      steps:
        - run: ''
          working-directory: ../elsewhere
      artifacts: ['[oops', /etc/passwd]
";
        let err = parse_service_spec("tandem.yml", text).unwrap_err();
        let shown = err.to_string();
        for expected in [
            "tandem.yml:5:18: in `if: branch = 'main'`: `=` is not an operator",
            "tandem.yml:6:16: `timeout`: duration `soon` is not valid",
            "secret name `lower` is not valid",
            "`matrix` of job `test`: axis `os: all` is not a list",
            "a step of job `test` has an empty `run`",
            "`working-directory: ../elsewhere` leaves the workspace",
            "artifact `[oops` is not a valid glob",
            "artifact `/etc/passwd` leaves the workspace",
        ] {
            assert!(shown.contains(expected), "expected `{expected}` in:\n{shown}");
        }
        assert_eq!(err.0.len(), 8, "{shown}");
    }

    #[test]
    fn a_job_declared_twice_is_refused() {
        let text =
            "service: s\npipeline:\n  jobs:\n    a:\n      steps: [{ run: x }]\n    a:\n      steps: [{ run: y }]\n";
        let err = parse_service_spec("t.yml", text).unwrap_err();
        assert!(err.to_string().to_lowercase().contains("duplicate"), "{err}");
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn deploy_commands_fill_in_artifacts_and_port() {
        let artifacts = HashMap::from([("shop".to_string(), "/d/a b/shop".to_string())]);
        let argv = render_deploy_command("{artifact:shop} --port {port}", &artifacts, 8080).unwrap();
        assert_eq!(argv, ["/d/a b/shop", "--port", "8080"]);
        assert!(
            render_deploy_command("{artifact:web}", &artifacts, 1)
                .unwrap_err()
                .contains("`web`")
        );
        assert!(
            render_deploy_command("{host}", &artifacts, 1)
                .unwrap_err()
                .contains("{host}")
        );
    }

    proptest! {
        #[test]
        fn job_order_respects_needs(n in 1usize..8, edges in proptest::collection::vec((0usize..8, 0usize..8), 0..16)) {
            let mut text = String::from("service: s\npipeline:\n  jobs:\n");
            for i in 0..n {
                let needs: Vec<String> = edges.iter().filter(|(a, b)| *a == i && *b < i).map(|(_, b)| format!("j{b}")).collect();
                text.push_str(&format!("    j{i}:\n      needs: [{}]\n      steps: [{{ run: x }}]\n", needs.join(", ")));
            }
            let spec = parse_service_spec("t.yml", &text).unwrap();
            let pos = |name: &str| spec.jobs.iter().position(|j| j.name == name).unwrap();
            for job in &spec.jobs {
                for need in &job.needs {
                    prop_assert!(pos(need) < pos(&job.name));
                }
            }
            prop_assert_eq!(spec.jobs.len(), n);
        }
    }
}
