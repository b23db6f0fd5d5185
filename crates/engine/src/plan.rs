//! A run's plan: the jobs of a `tandem.yml` after matrix expansion, each with the jobs it needs.
//! The pipeline runner schedules them and the job runner runs each one.

use std::collections::{BTreeMap, HashMap};
use tandem_core::pipeline::matrix::{combinations, instance_name};
use tandem_core::pipeline::{JobSpec, ServiceSpec};

/// One job of a run, after matrix expansion.
#[derive(Debug, Clone)]
pub struct PlannedJob {
    pub name: String,
    pub spec: JobSpec,
    pub needs: Vec<String>,
    pub matrix: BTreeMap<String, String>,
}

/// Expands matrix jobs into one job per combination; `needs` on a matrix job means all of it.
pub fn plan_jobs(spec: &ServiceSpec, markets: &[String]) -> Vec<PlannedJob> {
    let mut instances: HashMap<&str, Vec<String>> = HashMap::new();
    let mut out = Vec::new();
    for job in &spec.jobs {
        for combo in combinations(&job.matrix, markets) {
            let name = instance_name(&job.name, &combo);
            instances.entry(&job.name).or_default().push(name.clone());
            out.push(PlannedJob {
                needs: job
                    .needs
                    .iter()
                    .flat_map(|n| instances.get(n.as_str()).cloned().unwrap_or_default())
                    .collect(),
                name,
                spec: job.clone(),
                matrix: combo,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::pipeline::parse_service_spec;

    #[test]
    fn matrix_jobs_expand_and_needs_follow() {
        let spec = parse_service_spec(
            "t.yml",
            "service: s\npipeline:\n  jobs:\n    test:\n      matrix: { market: all }\n      steps: [{ run: x }]\n    ship:\n      needs: [test]\n      steps: [{ run: y }]\n",
        )
        .unwrap();
        let planned = plan_jobs(&spec, &["fr".into(), "be".into()]);
        let names: Vec<&str> = planned.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["test (fr)", "test (be)", "ship"]);
        assert_eq!(planned[2].needs, ["test (fr)", "test (be)"]);
        assert_eq!(planned[1].matrix["market"], "be");
    }
}
