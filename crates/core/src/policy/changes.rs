//! Who must approve a change request (a config or flag change) before it applies: the
//! `changes` section of the platform file. By default a change that touches a live market needs
//! one approval by someone other than its authors, from the other side: a developer's change is
//! approved by an operator, an operator's by a developer. A change that touches only markets
//! not live yet needs none.
//!
//! Four-eyes: whoever wrote any revision of a change (its opener and every reviser) is one of
//! its authors and may not review it; an approval counts for the one revision it was given to
//! (the caller passes only the current revision's reviews); a change written by both sides
//! needs an approval from each.

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

/// The platform's `flags` section: who may flip a flag's kill switch at once, as an emergency
/// change the other side reviews afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FlagPolicy {
    /// The least role that may kill a flag in an emergency (default operator; never viewer).
    #[serde(default = "emergency_default")]
    pub emergency_role: Role,
}

fn emergency_default() -> Role {
    Role::Operator
}

impl Default for FlagPolicy {
    fn default() -> Self {
        Self {
            emergency_role: emergency_default(),
        }
    }
}

/// Someone who wrote a revision of a change: its opener (revision 1) or whoever revised it.
/// Every author of any revision is barred from reviewing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub revision: i64,
    pub name: String,
    /// Their role when they wrote it: it says which side must review.
    pub role: Role,
}

/// One person's verdict on the current revision of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub by: String,
    pub role: Role,
    pub approve: bool,
}

/// Where a change stands with its reviewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ReviewState {
    /// Enough approvals that count: the change may apply.
    Approved { by: Vec<String> },
    /// Someone who may review refused it.
    Rejected { by: String },
    /// Waiting for `missing` more approvals, from `from`.
    Waiting { missing: u32, from: String },
}

/// Who a side's approver is, in words.
fn side_words(side: Side) -> &'static str {
    match side {
        Side::Dev => "a developer (dev side)",
        Side::Ops => "an operator (ops side)",
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Dev => Side::Ops,
        Side::Ops => Side::Dev,
    }
}

/// The revisions `name` wrote, as "revision 2" or "revisions 1 and 3".
fn revisions_of(authors: &[Author], name: &str) -> String {
    let mut revs: Vec<i64> = authors.iter().filter(|a| a.name == name).map(|a| a.revision).collect();
    revs.sort_unstable();
    revs.dedup();
    let list: Vec<String> = revs.iter().map(ToString::to_string).collect();
    match list.split_last() {
        Some((last, [])) => format!("revision {last}"),
        Some((last, rest)) => format!("revisions {} and {last}", rest.join(", ")),
        None => "it".to_string(),
    }
}

impl ChangeRule {
    /// The sides whose approval the change needs: under `other-side`, the other side of every
    /// side that wrote some revision (both, when both sides wrote it).
    pub fn sides_needed(&self, authors: &[Author]) -> Vec<Side> {
        if self.from != Approvers::OtherSide {
            return Vec::new();
        }
        let mut sides: Vec<Side> = authors.iter().filter_map(|a| Side::of(a.role)).map(other).collect();
        sides.sort_by_key(|s| *s == Side::Ops);
        sides.dedup();
        sides
    }

    /// Whether `reviewer` (holding `role`) may approve or reject a change written by
    /// `authors` (every author of every revision); the error says who may.
    pub fn may_review(&self, authors: &[Author], reviewer: &str, role: Role) -> Result<(), String> {
        if authors.iter().any(|a| a.name == reviewer) {
            return Err(format!(
                "{reviewer} wrote this change ({}): someone who wrote none of it must review it",
                revisions_of(authors, reviewer)
            ));
        }
        let Some(side) = Side::of(role) else {
            return Err(format!(
                "{reviewer} is a viewer: reviewing a change needs developer or above"
            ));
        };
        let needed = self.sides_needed(authors);
        if !needed.is_empty() && !needed.contains(&side) {
            let like = authors
                .iter()
                .find(|a| Side::of(a.role) == Some(side))
                .map_or("", |a| a.name.as_str());
            let wanted = match other(side) {
                Side::Dev => "a developer (dev)",
                Side::Ops => "an operator (ops)",
            };
            return Err(format!(
                "{reviewer} is on the {side} side like the author {like}: this change needs {wanted}"
            ));
        }
        Ok(())
    }

    /// Who may approve a change written by `authors`, in words.
    pub fn approvers(&self, authors: &[Author]) -> String {
        let needed = self.sides_needed(authors);
        if needed.is_empty() {
            let mut names: Vec<&str> = authors.iter().map(|a| a.name.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            return if names.len() > 1 {
                "anyone who wrote none of it".into()
            } else {
                "anyone but the author".into()
            };
        }
        needed.into_iter().map(side_words).collect::<Vec<_>>().join(" and ")
    }

    /// Where a change stands given the reviews of its current revision (older revisions'
    /// reviews must not be passed: editing a change resets its approvals) and every author
    /// of every revision. Reviews by people who may not review are ignored; one rejection by
    /// someone who may review rejects it. A change written by both sides needs an approval
    /// from each side, however few approvals the rule asks for.
    pub fn evaluate(&self, authors: &[Author], reviews: &[Review]) -> ReviewState {
        let counted: Vec<&Review> = reviews
            .iter()
            .filter(|r| self.may_review(authors, &r.by, r.role).is_ok())
            .collect();
        if let Some(r) = counted.iter().find(|r| !r.approve) {
            return ReviewState::Rejected { by: r.by.clone() };
        }
        let mut by: Vec<String> = counted.iter().map(|r| r.by.clone()).collect();
        by.sort();
        by.dedup();
        if self.approvals == 0 {
            return ReviewState::Approved { by };
        }
        let uncovered: Vec<Side> = self
            .sides_needed(authors)
            .into_iter()
            .filter(|s| !counted.iter().any(|r| Side::of(r.role) == Some(*s)))
            .collect();
        let short = self.approvals.saturating_sub(by.len() as u32);
        let missing = short.max(uncovered.len() as u32);
        if missing == 0 {
            return ReviewState::Approved { by };
        }
        let from = if uncovered.is_empty() {
            self.approvers(authors)
        } else {
            uncovered.into_iter().map(side_words).collect::<Vec<_>>().join(" and ")
        };
        ReviewState::Waiting { missing, from }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn review(by: &str, role: Role, approve: bool) -> Review {
        Review {
            by: by.into(),
            role,
            approve,
        }
    }

    fn author(revision: i64, name: &str, role: Role) -> Author {
        Author {
            revision,
            name: name.into(),
            role,
        }
    }

    fn by(name: &str, role: Role) -> Vec<Author> {
        vec![author(1, name, role)]
    }

    #[test]
    fn a_developers_change_needs_an_operator() {
        let rule = ChangePolicy::default().rule(true);
        let dana = by("dana", Role::Developer);
        let dev = Role::Developer;
        assert_eq!(
            rule.evaluate(&dana, &[]),
            ReviewState::Waiting {
                missing: 1,
                from: "an operator (ops side)".into()
            }
        );
        // The author and another developer do not count.
        let reviews = [review("dana", dev, true), review("dave", dev, true)];
        assert!(matches!(rule.evaluate(&dana, &reviews), ReviewState::Waiting { .. }));
        assert_eq!(
            rule.may_review(&dana, "dave", dev).unwrap_err(),
            "dave is on the dev side like the author dana: this change needs an operator (ops)"
        );
        let reviews = [review("dave", dev, true), review("olga", Role::Operator, true)];
        assert_eq!(
            rule.evaluate(&dana, &reviews),
            ReviewState::Approved {
                by: vec!["olga".into()]
            }
        );
    }

    #[test]
    fn an_operators_change_needs_a_developer_and_a_rejection_wins() {
        let rule = ChangePolicy::default().rule(true);
        let olga = by("olga", Role::Operator);
        let reviews = [review("adam", Role::Admin, true)];
        assert!(
            matches!(rule.evaluate(&olga, &reviews), ReviewState::Waiting { .. }),
            "an admin is ops"
        );
        let reviews = [
            review("dana", Role::Developer, true),
            review("dave", Role::Developer, false),
        ];
        assert_eq!(
            rule.evaluate(&olga, &reviews),
            ReviewState::Rejected { by: "dave".into() }
        );
        assert!(rule.may_review(&olga, "vic", Role::Viewer).is_err());
    }

    #[test]
    fn a_change_to_markets_not_live_needs_no_approval_by_default() {
        let rule = ChangePolicy::default().rule(false);
        assert_eq!(
            rule.evaluate(&by("dana", Role::Developer), &[]),
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
            two.evaluate(&by("dana", Role::Developer), &reviews),
            ReviewState::Waiting {
                missing: 1,
                from: "anyone but the author".into()
            },
            "one person approving twice counts once"
        );
    }

    #[test]
    fn a_reviser_is_an_author_and_cannot_approve_what_he_wrote() {
        let rule = ChangePolicy::default().rule(true);
        // Dana (dev) opened it; Dave (dev) revised it: neither may approve.
        let authors = [author(1, "dana", Role::Developer), author(2, "dave", Role::Developer)];
        assert_eq!(
            rule.may_review(&authors, "dave", Role::Developer).unwrap_err(),
            "dave wrote this change (revision 2): someone who wrote none of it must review it"
        );
        // Even when his role would be the right side for the opener's change.
        let authors = [author(1, "dana", Role::Developer), author(2, "omar", Role::Operator)];
        let err = rule.may_review(&authors, "omar", Role::Operator).unwrap_err();
        assert!(err.contains("omar wrote this change (revision 2)"), "{err}");
        let again = [
            author(1, "dana", Role::Developer),
            author(2, "omar", Role::Operator),
            author(3, "omar", Role::Operator),
        ];
        assert!(
            rule.may_review(&again, "omar", Role::Operator)
                .unwrap_err()
                .contains("(revisions 2 and 3)")
        );
        assert_eq!(
            rule.evaluate(&authors, &[review("omar", Role::Operator, true)]),
            ReviewState::Waiting {
                missing: 2,
                from: "a developer (dev side) and an operator (ops side)".into()
            }
        );
    }

    #[test]
    fn a_change_written_by_both_sides_needs_both_sides() {
        let rule = ChangePolicy::default().rule(true);
        let authors = [author(1, "dana", Role::Developer), author(2, "omar", Role::Operator)];
        assert_eq!(
            rule.approvers(&authors),
            "a developer (dev side) and an operator (ops side)"
        );
        assert!(rule.may_review(&authors, "dave", Role::Developer).is_ok());
        assert!(rule.may_review(&authors, "olga", Role::Operator).is_ok());
        assert_eq!(
            rule.evaluate(&authors, &[review("olga", Role::Operator, true)]),
            ReviewState::Waiting {
                missing: 1,
                from: "a developer (dev side)".into()
            }
        );
        assert_eq!(
            rule.evaluate(
                &authors,
                &[
                    review("olga", Role::Operator, true),
                    review("dave", Role::Developer, true)
                ]
            ),
            ReviewState::Approved {
                by: vec!["dave".into(), "olga".into()]
            }
        );
        let anyone = ChangeRule {
            approvals: 1,
            from: Approvers::AnyoneElse,
        };
        assert_eq!(anyone.approvers(&authors), "anyone who wrote none of it");
        assert!(matches!(
            anyone.evaluate(&authors, &[review("olga", Role::Operator, true)]),
            ReviewState::Approved { .. }
        ));
    }

    const NAMES: [&str; 5] = ["ana", "dana", "dave", "olga", "omar"];

    fn arb_role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    fn arb_authors() -> impl Strategy<Value = Vec<Author>> {
        prop::collection::vec((prop::sample::select(NAMES.to_vec()), arb_role()), 1..4).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (name, role))| author(i as i64 + 1, name, role))
                .collect()
        })
    }

    fn arb_reviews() -> impl Strategy<Value = Vec<Review>> {
        prop::collection::vec(
            (
                prop::sample::select(NAMES.to_vec()),
                arb_role(),
                prop::bool::weighted(0.8),
            ),
            0..6,
        )
        .prop_map(|v| v.into_iter().map(|(n, r, a)| review(n, r, a)).collect())
    }

    fn arb_rule() -> impl Strategy<Value = ChangeRule> {
        (
            0u32..4,
            prop::sample::select(vec![Approvers::OtherSide, Approvers::AnyoneElse]),
        )
            .prop_map(|(approvals, from)| ChangeRule { approvals, from })
    }

    proptest! {
        #[test]
        fn no_author_ever_counts_and_every_side_that_wrote_is_reviewed_by_the_other(
            rule in arb_rule(),
            authors in arb_authors(),
            reviews in arb_reviews(),
        ) {
            let is_author = |n: &str| authors.iter().any(|a| a.name == n);
            match rule.evaluate(&authors, &reviews) {
                ReviewState::Approved { by } => {
                    prop_assert!(by.iter().all(|n| !is_author(n)), "{:?}", by);
                    prop_assert!(by.len() as u32 >= rule.approvals);
                    if rule.approvals > 0 && rule.from == Approvers::OtherSide {
                        for a in &authors {
                            let Some(side) = Side::of(a.role) else { continue };
                            prop_assert!(
                                reviews.iter().any(|r| r.approve && !is_author(&r.by) && Side::of(r.role) == Some(other(side))),
                                "{} ({}) wrote a revision and no one of the other side approved", a.name, side
                            );
                        }
                    }
                }
                ReviewState::Rejected { by } => prop_assert!(!is_author(&by)),
                ReviewState::Waiting { missing, .. } => prop_assert!(missing > 0),
            }
            // Reviews by authors change nothing.
            let others: Vec<Review> = reviews.iter().filter(|r| !is_author(&r.by)).cloned().collect();
            prop_assert_eq!(rule.evaluate(&authors, &reviews), rule.evaluate(&authors, &others));
        }

        #[test]
        fn a_reviser_never_reviews(rule in arb_rule(), authors in arb_authors(), role in arb_role()) {
            for a in &authors {
                prop_assert!(rule.may_review(&authors, &a.name, role).is_err());
            }
        }
    }
}
