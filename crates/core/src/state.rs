//! The states of Tandem's persisted things, as types: rollouts, deployments (and their kinds),
//! pipeline runs, jobs and steps, change requests, incidents, markets' launches and markets'
//! health, and what a rollback did in a market.
//!
//! Each enum keeps the text the database and the API use (`as_str`, `FromStr`, `Display`,
//! serde: one spelling, kebab-case), and its allowed transitions (`can_move_to`), written from
//! what the engine and the store do today. Parsing an unknown text is an [`UnknownState`] naming
//! what it was read as and the value, so a row with a bad state is a decode error, not a panic.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A state text that names no state of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {expected}")]
pub struct UnknownState {
    /// What the text was read as (`rollout state`).
    pub what: &'static str,
    /// The text read.
    pub value: String,
    /// The values it may take, comma-separated.
    pub expected: String,
}

/// Declares a state enum with its text, parsing, display and serde.
macro_rules! state_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in the order they are declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database and shown by the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;

            fn from_str(s: &str) -> Result<Self, UnknownState> {
                match s {
                    $( $text => Ok($name::$variant), )+
                    _ => Err(UnknownState {
                        what: $what,
                        value: s.chars().take(64).collect(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownState;

            fn try_from(s: String) -> Result<Self, UnknownState> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

state_enum! {
    /// Where a rollout stands. `queued` waits for its markets' locks; `pending` holds them and
    /// has not started a wave; `blocked` holds them while some markets of its wave were refused
    /// before anything started (their config lacks what the release needs) and waits for a
    /// person; `halted` stopped on a failed gate; `failed` stopped on an error.
    RolloutState, "rollout state" {
        Queued => "queued",
        Pending => "pending",
        Running => "running",
        AwaitingApproval => "awaiting-approval",
        Paused => "paused",
        Blocked => "blocked",
        Succeeded => "succeeded",
        Halted => "halted",
        Aborted => "aborted",
        Failed => "failed",
    }
}

impl RolloutState {
    /// Holds its markets' locks, or waits for them (`queued`).
    pub fn is_in_progress(self) -> bool {
        !self.is_final()
    }

    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Halted | Self::Aborted | Self::Failed)
    }

    /// Whether the engine moves a rollout from `self` to `next`: a queued rollout starts
    /// (`pending`) when its markets are free; before each wave it runs or waits for an approval;
    /// a person pauses it, resumes it (`running`) or aborts it while in progress; a wave with
    /// refused markets blocks it until a person resumes it (after fixing them, or without
    /// them); its run ends it (succeeded, halted, failed) unless it was queued.
    pub fn can_move_to(self, next: RolloutState) -> bool {
        use RolloutState::*;
        matches!(
            (self, next),
            (Queued, Pending | Aborted)
                | (
                    Pending | Running | AwaitingApproval,
                    Running | AwaitingApproval | Paused
                )
                | (Paused | Blocked, Running)
                | (Running | Paused, Blocked)
                | (
                    Pending | Running | AwaitingApproval | Paused | Blocked,
                    Aborted | Succeeded | Halted | Failed
                )
        )
    }

    /// The states from which the engine moves a rollout to `next`.
    pub fn sources(next: RolloutState) -> Vec<RolloutState> {
        Self::ALL.iter().copied().filter(|s| s.can_move_to(next)).collect()
    }
}

state_enum! {
    /// Where one deployment (a release landing in one market) stands. A market runs the
    /// release of its one `live` deployment; the one before it is `superseded`. A `blocked`
    /// one was refused before anything started (the market's config does not fit the
    /// release's schema): the market kept what it ran, and it is not a change.
    DeploymentState, "deployment state" {
        Deploying => "deploying",
        Live => "live",
        Failed => "failed",
        Superseded => "superseded",
        Blocked => "blocked",
    }
}

impl DeploymentState {
    /// Nothing more happens to it but being superseded.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Superseded | Self::Blocked)
    }

    /// Still starting.
    pub fn is_in_progress(self) -> bool {
        self == Self::Deploying
    }

    /// A deployment starts `deploying`, then goes `live`, `failed` or `blocked`; a live one is
    /// `superseded` when the next one goes live.
    pub fn can_move_to(self, next: DeploymentState) -> bool {
        use DeploymentState::*;
        matches!((self, next), (Deploying, Live | Failed | Blocked) | (Live, Superseded))
    }

    /// The market ran this deployment's release at some point (DORA counts it).
    pub fn went_live(self) -> bool {
        matches!(self, Self::Live | Self::Superseded)
    }
}

state_enum! {
    /// Why a deployment happened. Kinds do not change.
    DeploymentKind, "deployment kind" {
        /// A rollout brought a release.
        Release => "release",
        /// A market went back to an earlier release.
        Rollback => "rollback",
        /// The market's release again, with a new config version.
        Config => "config",
    }
}

state_enum! {
    /// What a rollback by hand did in one market. Final as soon as it is known: a rollback
    /// answers once, when every market it was asked for is done.
    MoveState, "rollback outcome" {
        /// The market runs what it ran before (release or config version).
        RolledBack => "rolled back",
        /// The earlier release or version failed its gates, or the market was held: it keeps
        /// what it ran.
        Failed => "failed",
        /// Nothing to go back to (nothing runs there, nothing ran before).
        Skipped => "skipped",
    }
}

state_enum! {
    /// Where a pipeline run stands.
    RunState, "run state" {
        Queued => "queued",
        Running => "running",
        Success => "success",
        Failed => "failed",
        Cancelled => "cancelled",
        /// The server stopped while it ran.
        Interrupted => "interrupted",
    }
}

impl RunState {
    /// Queued or running.
    pub fn is_in_progress(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }

    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        !self.is_in_progress()
    }

    /// A run is queued, then runs, then ends (success, failed, cancelled); one in progress
    /// when the server stops is interrupted, and one that cannot start ends from the queue.
    pub fn can_move_to(self, next: RunState) -> bool {
        self.is_in_progress() && next != Self::Queued && (next != Self::Running || self == Self::Queued)
    }
}

state_enum! {
    /// Where a job of a run stands.
    JobState, "job state" {
        Pending => "pending",
        Running => "running",
        Success => "success",
        Failed => "failed",
        Cancelled => "cancelled",
        /// Never started: its run ended first, or a job it needs failed.
        Skipped => "skipped",
        /// The server stopped while it ran.
        Interrupted => "interrupted",
    }
}

impl JobState {
    /// Pending or running.
    pub fn is_in_progress(self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }

    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        !self.is_in_progress()
    }

    /// A pending job runs, is skipped, or fails before it starts (a step that cannot be
    /// prepared) or succeeds at once (its cache hit); a running job ends (success, failed,
    /// cancelled, interrupted). A rerun copies finished jobs, it does not move them.
    pub fn can_move_to(self, next: JobState) -> bool {
        use JobState::*;
        matches!(
            (self, next),
            (Pending, Running | Skipped | Failed | Success)
                | (Running, Running | Success | Failed | Cancelled | Interrupted)
        )
    }
}

state_enum! {
    /// Where a step of a job stands.
    StepState, "step state" {
        Pending => "pending",
        Running => "running",
        Success => "success",
        Failed => "failed",
        Cancelled => "cancelled",
        /// Never started: a step before it failed.
        Skipped => "skipped",
    }
}

impl StepState {
    /// Pending or running.
    pub fn is_in_progress(self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }

    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        !self.is_in_progress()
    }

    /// A pending step runs, is skipped, or succeeds with its job's cache hit; a running step
    /// ends (success, failed, cancelled).
    pub fn can_move_to(self, next: StepState) -> bool {
        use StepState::*;
        matches!(
            (self, next),
            (Pending, Running | Skipped | Success) | (Running, Success | Failed | Cancelled)
        )
    }
}

state_enum! {
    /// Where a change request (a config or flag change under review) stands.
    ChangeState, "change request state" {
        Open => "open",
        Rejected => "rejected",
        /// Being applied (a config version written, its rollout started).
        Applying => "applying",
        /// Its config is rolling out.
        Applied => "applied",
        /// Its config reached every market, or its flags are in force.
        Done => "done",
        Failed => "failed",
        Withdrawn => "withdrawn",
    }
}

impl ChangeState {
    /// Nothing more happens to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Withdrawn)
    }

    /// Still open to reviews or edits.
    pub fn is_in_progress(self) -> bool {
        !self.is_final()
    }

    /// An open request is edited (stays open), rejected, withdrawn or applied; a rejected one
    /// is edited (open again) or withdrawn; applying it ends `done`, `failed` or `applied`
    /// (a config rolling out), and its rollout's end makes an applied one done or failed.
    pub fn can_move_to(self, next: ChangeState) -> bool {
        use ChangeState::*;
        matches!(
            (self, next),
            (Open | Rejected, Open | Withdrawn)
                | (Open, Rejected | Applying)
                | (Applying, Applied | Done | Failed)
                | (Applied, Done | Failed)
        )
    }

    /// The states from which a change request may become `next`.
    pub fn sources(next: ChangeState) -> Vec<ChangeState> {
        Self::ALL.iter().copied().filter(|s| s.can_move_to(next)).collect()
    }
}

state_enum! {
    /// Where an incident stands.
    IncidentState, "incident state" {
        Open => "open",
        Resolved => "resolved",
    }
}

impl IncidentState {
    /// Resolved.
    pub fn is_final(self) -> bool {
        self == Self::Resolved
    }

    /// An open incident is resolved, once.
    pub fn can_move_to(self, next: IncidentState) -> bool {
        matches!((self, next), (Self::Open, Self::Resolved))
    }
}

state_enum! {
    /// Where a market stands in its launch.
    LaunchState, "market state" {
        Planned => "planned",
        Launching => "launching",
        Live => "live",
    }
}

impl LaunchState {
    /// A planned market starts launching with its first live deployment and goes live when
    /// a person says so (a planned one may go live at once).
    pub fn can_move_to(self, next: LaunchState) -> bool {
        use LaunchState::*;
        matches!((self, next), (Planned, Launching | Live) | (Launching, Live))
    }
}

state_enum! {
    /// A market's health as the monitor last saw it.
    HealthState, "market health state" {
        /// The last probe passed.
        Up => "up",
        /// It failed, fewer than `monitor.failures` times in a row.
        Failing => "failing",
        /// That many failed: an incident is open.
        Down => "down",
        /// Not probed since the server started.
        Unknown => "unknown",
    }
}

impl HealthState {
    /// Each probe sets up, failing or down; a server that starts marks up markets unknown
    /// until probed again.
    pub fn can_move_to(self, next: HealthState) -> bool {
        next != Self::Unknown || self == Self::Up
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value reads back from its text, through FromStr and serde alike.
    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr + Serialize + for<'a> Deserialize<'a>,
    {
        for &v in all {
            let text = v.to_string();
            assert_eq!(text.parse::<T>().ok(), Some(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<T>(&format!("\"{text}\"")).unwrap(), v);
        }
    }

    #[test]
    fn texts_round_trip_and_an_unknown_one_is_named() {
        round_trips(RolloutState::ALL);
        round_trips(DeploymentState::ALL);
        round_trips(DeploymentKind::ALL);
        round_trips(RunState::ALL);
        round_trips(JobState::ALL);
        round_trips(StepState::ALL);
        round_trips(ChangeState::ALL);
        round_trips(IncidentState::ALL);
        round_trips(LaunchState::ALL);
        round_trips(HealthState::ALL);
        round_trips(MoveState::ALL);
        assert_eq!(RolloutState::AwaitingApproval.as_str(), "awaiting-approval");
        let e = "runing".parse::<RunState>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown run state `runing`; expected one of: queued, running, success, failed, cancelled, interrupted"
        );
    }

    /// (from, to) pairs of a transition table, with `x` for allowed.
    fn table<T: Copy + PartialEq + fmt::Debug>(all: &[T], rows: &[&str], can: impl Fn(T, T) -> bool) {
        for (i, &from) in all.iter().enumerate() {
            let row: Vec<char> = rows[i].chars().filter(|c| !c.is_whitespace()).collect();
            for (j, &to) in all.iter().enumerate() {
                assert_eq!(can(from, to), row[j] == 'x', "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn rollout_transitions_are_the_engines() {
        // to: queued pending running awaiting paused blocked succeeded halted aborted failed
        table(
            RolloutState::ALL,
            &[
                ". x . . . . . . x .", // queued: its markets free up, or a person aborts it
                ". . x x x . x x x x", // pending
                ". . x x x x x x x x", // running: each wave sets running again; refused markets block it
                ". . x x x . x x x x", // awaiting-approval
                ". . x . . x x x x x", // paused: resume; the wave in flight may still end or block it
                ". . x . . . x x x x", // blocked: resume (fixed, or without the refused markets)
                ". . . . . . . . . .",
                ". . . . . . . . . .",
                ". . . . . . . . . .",
                ". . . . . . . . . .",
            ],
            RolloutState::can_move_to,
        );
        use RolloutState::*;
        // What the engine's pause, resume and abort accept today.
        assert_eq!(RolloutState::sources(Paused), [Pending, Running, AwaitingApproval]);
        assert_eq!(
            RolloutState::sources(Aborted),
            [Queued, Pending, Running, AwaitingApproval, Paused, Blocked]
        );
        let in_progress: Vec<_> = RolloutState::ALL.iter().filter(|s| s.is_in_progress()).collect();
        assert_eq!(
            in_progress,
            [&Queued, &Pending, &Running, &AwaitingApproval, &Paused, &Blocked]
        );
    }

    #[test]
    fn other_transitions_are_the_engines() {
        // deploying live failed superseded blocked
        table(
            DeploymentState::ALL,
            &[". x x . x", ". . . x .", ". . . . .", ". . . . .", ". . . . ."],
            DeploymentState::can_move_to,
        );
        // queued running success failed cancelled interrupted
        table(
            RunState::ALL,
            &[". x x x x x", ". . x x x x", "......", "......", "......", "......"],
            RunState::can_move_to,
        );
        // pending running success failed cancelled skipped interrupted
        table(
            JobState::ALL,
            &[
                ". x x x . x .",
                ". x x x x . x",
                ".......",
                ".......",
                ".......",
                ".......",
                ".......",
            ],
            JobState::can_move_to,
        );
        // pending running success failed cancelled skipped
        table(
            StepState::ALL,
            &[". x x . . x", ". . x x x .", "......", "......", "......", "......"],
            StepState::can_move_to,
        );
        // open rejected applying applied done failed withdrawn
        table(
            ChangeState::ALL,
            &[
                "x x x . . . x",
                "x . . . . . x",
                ". . . x x x .",
                ". . . . x x .",
                ".......",
                ".......",
                ".......",
            ],
            ChangeState::can_move_to,
        );
        assert_eq!(
            ChangeState::sources(ChangeState::Withdrawn),
            [ChangeState::Open, ChangeState::Rejected]
        );
        table(IncidentState::ALL, &[". x", ".."], IncidentState::can_move_to);
        // planned launching live
        table(LaunchState::ALL, &[". x x", "..x", "..."], LaunchState::can_move_to);
        // up failing down unknown
        table(
            HealthState::ALL,
            &["x x x x", "x x x .", "x x x .", "x x x ."],
            HealthState::can_move_to,
        );
    }
}
