//! Who must approve a change request (a config or flag change) before it applies: the
//! `changes` section of the platform file. By default a change that touches a live market needs
//! one approval by someone other than its author, from the other side: a developer's change is
//! approved by an operator, an operator's by a developer. A change that touches only markets
//! not live yet needs none.

use crate::role::Role;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The two sides of a team: those who write the code and those who run it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Dev,
    Ops,
}

impl Side {
    /// The side a role speaks for: developers are dev, operators and admins are ops. Viewers
    /// neither propose nor review.
    pub fn of(role: Role) -> Option<Side> {
        match role {
            Role::Viewer => None,
            Role::Developer => Some(Side::Dev),
            Role::Operator | Role::Admin => Some(Side::Ops),
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Dev => "dev",
            Side::Ops => "ops",
        })
    }
}

/// Whose approval counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approvers {
    /// Anyone but the author, on the other side (dev ↔ ops).
    OtherSide,
    /// Anyone but the author, developer or above.
    AnyoneElse,
}

/// How many approvals a change needs, and from whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRule {
    pub approvals: u32,
    #[serde(default = "other_side")]
    pub from: Approvers,
}

fn other_side() -> Approvers {
    Approvers::OtherSide
}

/// The platform's `changes` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePolicy {
    /// For a change that alters the config (or flags) of at least one live market.
    #[serde(default = "production_default")]
    pub production: ChangeRule,
    /// For a change that alters only markets not live yet (planned or launching).
    #[serde(default = "other_default")]
    pub other: ChangeRule,
}

fn production_default() -> ChangeRule {
    ChangeRule {
        approvals: 1,
        from: Approvers::OtherSide,
    }
}

fn other_default() -> ChangeRule {
    ChangeRule {
        approvals: 0,
        from: Approvers::OtherSide,
    }
}

impl Default for ChangePolicy {
    fn default() -> Self {
        Self {
            production: production_default(),
            other: other_default(),
        }
    }
}

impl ChangePolicy {
    /// The rule for a change that does (or does not) touch a live market.
    pub fn rule(&self, production: bool) -> ChangeRule {
        if production { self.production } else { self.other }
    }
}

/// One person's verdict on the current revision of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub by: String,
    pub role: Role,
    pub approve: bool,
}

/// Where a change stands with its reviewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ReviewState {
    /// Enough approvals that count: the change may apply.
    Approved { by: Vec<String> },
    /// Someone who may review refused it.
    Rejected { by: String },
    /// Waiting for `missing` more approvals, from `from`.
    Waiting { missing: u32, from: String },
}

impl ChangeRule {
    /// Whether `reviewer` (holding `role`) may approve or reject a change by `author`, who
    /// holds `author_role`; the error says who may.
    pub fn may_review(&self, author: &str, author_role: Role, reviewer: &str, role: Role) -> Result<(), String> {
        if reviewer == author {
            return Err(format!("{reviewer} wrote this change: someone else must review it"));
        }
        let Some(side) = Side::of(role) else {
            return Err(format!(
                "{reviewer} is a viewer: reviewing a change needs developer or above"
            ));
        };
        if self.from == Approvers::OtherSide
            && let Some(author_side) = Side::of(author_role)
            && side == author_side
        {
            let wanted = match author_side {
                Side::Dev => "an operator (ops)",
                Side::Ops => "a developer (dev)",
            };
            return Err(format!(
                "{reviewer} is on the {side} side like the author {author}: this change needs {wanted}"
            ));
        }
        Ok(())
    }

    /// Who may approve a change by an author holding `author_role`, in words.
    pub fn approvers(&self, author_role: Role) -> String {
        match (self.from, Side::of(author_role)) {
            (Approvers::OtherSide, Some(Side::Dev)) => "an operator (ops side)".into(),
            (Approvers::OtherSide, Some(Side::Ops)) => "a developer (dev side)".into(),
            _ => "anyone but the author".into(),
        }
    }

    /// Where a change stands given the reviews of its current revision (older revisions'
    /// reviews must not be passed: editing a change resets its approvals). Reviews by people
    /// who may not review are ignored; one rejection by someone who may review rejects it.
    pub fn evaluate(&self, author: &str, author_role: Role, reviews: &[Review]) -> ReviewState {
        let counted: Vec<&Review> = reviews
            .iter()
            .filter(|r| self.may_review(author, author_role, &r.by, r.role).is_ok())
            .collect();
        if let Some(r) = counted.iter().find(|r| !r.approve) {
            return ReviewState::Rejected { by: r.by.clone() };
        }
        let mut by: Vec<String> = counted.iter().map(|r| r.by.clone()).collect();
        by.sort();
        by.dedup();
        let have = by.len() as u32;
        if have >= self.approvals {
            ReviewState::Approved { by }
        } else {
            ReviewState::Waiting {
                missing: self.approvals - have,
                from: self.approvers(author_role),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(by: &str, role: Role, approve: bool) -> Review {
        Review {
            by: by.into(),
            role,
            approve,
        }
    }

    #[test]
    fn a_developers_change_needs_an_operator() {
        let rule = ChangePolicy::default().rule(true);
        let dev = Role::Developer;
        assert_eq!(
            rule.evaluate("dana", dev, &[]),
            ReviewState::Waiting {
                missing: 1,
                from: "an operator (ops side)".into()
            }
        );
        // The author and another developer do not count.
        let reviews = [review("dana", dev, true), review("dave", dev, true)];
        assert!(matches!(
            rule.evaluate("dana", dev, &reviews),
            ReviewState::Waiting { .. }
        ));
        assert_eq!(
            rule.may_review("dana", dev, "dave", dev).unwrap_err(),
            "dave is on the dev side like the author dana: this change needs an operator (ops)"
        );
        let reviews = [review("dave", dev, true), review("olga", Role::Operator, true)];
        assert_eq!(
            rule.evaluate("dana", dev, &reviews),
            ReviewState::Approved {
                by: vec!["olga".into()]
            }
        );
    }

    #[test]
    fn an_operators_change_needs_a_developer_and_a_rejection_wins() {
        let rule = ChangePolicy::default().rule(true);
        let ops = Role::Operator;
        let reviews = [review("adam", Role::Admin, true)];
        assert!(
            matches!(rule.evaluate("olga", ops, &reviews), ReviewState::Waiting { .. }),
            "an admin is ops"
        );
        let reviews = [
            review("dana", Role::Developer, true),
            review("dave", Role::Developer, false),
        ];
        assert_eq!(
            rule.evaluate("olga", ops, &reviews),
            ReviewState::Rejected { by: "dave".into() }
        );
        assert!(rule.may_review("olga", ops, "vic", Role::Viewer).is_err());
    }

    #[test]
    fn a_change_to_markets_not_live_needs_no_approval_by_default() {
        let rule = ChangePolicy::default().rule(false);
        assert_eq!(
            rule.evaluate("dana", Role::Developer, &[]),
            ReviewState::Approved { by: vec![] }
        );
        let two = ChangeRule {
            approvals: 2,
            from: Approvers::AnyoneElse,
        };
        let reviews = [
            review("dave", Role::Developer, true),
            review("dave", Role::Developer, true),
        ];
        assert_eq!(
            two.evaluate("dana", Role::Developer, &reviews),
            ReviewState::Waiting {
                missing: 1,
                from: "anyone but the author".into()
            },
            "one person approving twice counts once"
        );
    }
}
