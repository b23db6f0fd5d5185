//! The marks a timeline draws (release, config change, rollback, incident, ...), shared with
//! the legend, which shows each kind.

use super::colours::*;
use plotters::prelude::*;

/// What happened, as a timeline marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// A release went live and stayed.
    Release,
    /// A config version went live and stayed.
    Config,
    /// A deployment went live, then its market was sent back.
    RolledBack,
    /// A deployment never served (its gate failed before the switch).
    Failed,
    /// A rollback: the market went back to what it ran before.
    Rollback,
    /// An incident was opened.
    Incident,
}

impl Mark {
    pub(super) const ALL: [Mark; 6] = [
        Mark::Release,
        Mark::Config,
        Mark::RolledBack,
        Mark::Failed,
        Mark::Rollback,
        Mark::Incident,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            Mark::Release => "release",
            Mark::Config => "config change",
            Mark::RolledBack => "rolled back",
            Mark::Failed => "failed",
            Mark::Rollback => "rollback",
            Mark::Incident => "incident",
        }
    }
}

/// The element drawn for one timeline mark at `p`.
pub(super) fn mark_element<DB: DrawingBackend, C: Clone + 'static>(mark: Mark, p: C) -> DynElement<'static, DB, C> {
    match mark {
        Mark::Release => Circle::new(p, 4, OK.filled()).into_dyn(),
        Mark::Config => TriangleMarker::new(p, 6, LINK.filled()).into_dyn(),
        Mark::RolledBack => Circle::new(p, 5, BUSY.stroke_width(2)).into_dyn(),
        Mark::Failed => Circle::new(p, 4, BAD.filled()).into_dyn(),
        Mark::Rollback => TriangleMarker::new(p, 6, BUSY.filled()).into_dyn(),
        Mark::Incident => Cross::new(p, 5, BAD.stroke_width(2)).into_dyn(),
    }
}
