//! Percentage rollout by stable hashing of the targeting key.
//!
//! The bucket of a key is the first 8 bytes of `SHA-256("{flag key}/{targeting key}")`
//! (UTF-8), read as a big-endian unsigned integer, modulo 10 000. This formula is part of
//! the flag contract: changing it would move users between variants, so it never changes.
//! A rollout cuts 0..10 000 into consecutive slices, one per variant in the order of the
//! variant names, each as wide as its weight (1 = 0.01 %). Widening one of two slices so
//! moves only keys from the other variant into it.

use sha2::{Digest, Sha256};

/// How many buckets a rollout divides keys into: weights have 0.01 % steps.
pub const BUCKETS: u16 = 10_000;

/// The bucket (0..10 000) of `targeting_key` for the flag `flag_key`.
pub fn bucket(flag_key: &str, targeting_key: &str) -> u16 {
    let mut h = Sha256::new();
    h.update(flag_key.as_bytes());
    h.update(b"/");
    h.update(targeting_key.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // The remainder is below 10 000, so it fits.
    (u64::from_be_bytes(first) % u64::from(BUCKETS)) as u16
}

/// A percentage split between variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// `(end, variant)`: the variant (an index into the flag's variants) owns the buckets
    /// from the previous end up to `end` (exclusive). Ends ascend to [`BUCKETS`].
    slices: Box<[(u16, usize)]>,
    /// `(variant, weight in 0.01 %)` as written, in variant order, zero weights included.
    weights: Box<[(usize, u16)]>,
}

impl Rollout {
    /// Builds a rollout from weights in 0.01 % that add up to [`BUCKETS`], ordered by variant.
    pub(crate) fn new(weights: Vec<(usize, u16)>) -> Option<Rollout> {
        let mut end: u32 = 0;
        let mut slices = Vec::with_capacity(weights.len());
        for &(variant, w) in &weights {
            if w == 0 {
                continue;
            }
            end += u32::from(w);
            slices.push((u16::try_from(end).ok()?, variant));
        }
        if end != u32::from(BUCKETS) {
            return None;
        }
        Some(Rollout {
            slices: slices.into(),
            weights: weights.into(),
        })
    }

    /// The variant owning `bucket`.
    pub fn pick(&self, bucket: u16) -> usize {
        self.slices
            .iter()
            .find(|(end, _)| bucket < *end)
            .or(self.slices.last())
            .map_or(0, |s| s.1)
    }

    /// `(variant, weight in 0.01 %)` in variant order.
    pub fn weights(&self) -> &[(usize, u16)] {
        &self.weights
    }
}

/// Converts a weight in percent, with at most two decimals, to 0.01 % steps.
pub(crate) fn basis_points(percent: f64) -> Result<u16, String> {
    if !(0.0..=100.0).contains(&percent) {
        return Err(format!(
            "weight {percent} is out of range: expected a percentage from 0 to 100"
        ));
    }
    let steps = (percent * 100.0).round();
    if (percent * 100.0 - steps).abs() > 1e-6 {
        return Err(format!(
            "weight {percent} is too precise: expected at most two decimals, such as 12.5"
        ));
    }
    // In 0..=10 000 after the range check.
    Ok(steps as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_pinned_forever() {
        // These values are the contract: if this test fails, users would change variant.
        assert_eq!(bucket("new-checkout", "user-1"), bucket("new-checkout", "user-1"));
        let pinned: Vec<u16> = ["user-1", "user-2", "", "ünïcode"]
            .iter()
            .map(|k| bucket("new-checkout", k))
            .collect();
        assert_eq!(pinned, PINNED);
    }

    // Computed independently: `printf %s new-checkout/user-1 | sha256sum`, first 16 hex digits mod 10000.
    const PINNED: [u16; 4] = [5337, 7620, 2627, 9277];

    #[test]
    fn weights_convert_to_basis_points() {
        assert_eq!(basis_points(20.0), Ok(2000));
        assert_eq!(basis_points(12.5), Ok(1250));
        assert_eq!(basis_points(0.01), Ok(1));
        assert_eq!(basis_points(100.0), Ok(10_000));
        assert!(basis_points(12.345).unwrap_err().contains("at most two decimals"));
        assert!(basis_points(-1.0).unwrap_err().contains("out of range"));
        assert!(basis_points(100.5).unwrap_err().contains("out of range"));
    }

    #[test]
    fn slices_follow_the_weights() {
        let r = Rollout::new(vec![(0, 2000), (1, 0), (2, 8000)]).unwrap();
        assert_eq!(r.pick(0), 0);
        assert_eq!(r.pick(1999), 0);
        assert_eq!(r.pick(2000), 2);
        assert_eq!(r.pick(9999), 2);
        assert_eq!(r.weights(), &[(0, 2000), (1, 0), (2, 8000)]);
        assert!(
            Rollout::new(vec![(0, 2000), (1, 7000)]).is_none(),
            "must add up to 100 %"
        );
    }

    proptest! {
        #[test]
        fn the_same_key_always_gets_the_same_variant(key in ".{0,40}", on in 0u16..=10_000) {
            let r = Rollout::new(vec![(0, 10_000 - on), (1, on)]).unwrap();
            let first = r.pick(bucket("flag", &key));
            for _ in 0..3 {
                prop_assert_eq!(r.pick(bucket("flag", &key)), first);
            }
        }

        #[test]
        fn widening_a_slice_only_moves_keys_into_it(key in "[a-z0-9-]{1,24}", from in 0u16..=10_000, more in 0u16..=10_000) {
            // Variant 1 (`on`) grows from `from` to `to`; variant 0 (`off`) shrinks.
            let to = from.saturating_add(more).min(10_000);
            let before = Rollout::new(vec![(0, 10_000 - from), (1, from)]).unwrap();
            let after = Rollout::new(vec![(0, 10_000 - to), (1, to)]).unwrap();
            let b = bucket("checkout", &key);
            if before.pick(b) == 1 {
                prop_assert_eq!(after.pick(b), 1, "a key that had `on` keeps it");
            }
        }
    }

    #[test]
    fn keys_spread_evenly_over_the_buckets() {
        let r = Rollout::new(vec![(0, 8000), (1, 2000)]).unwrap();
        let n = 20_000;
        let on = (0..n)
            .filter(|i| r.pick(bucket("new-checkout", &format!("user-{i}"))) == 1)
            .count();
        // 20 % of 20 000 is 4 000; the standard deviation is about 57, so ±300 is > 5σ.
        assert!((3700..=4300).contains(&on), "{on}");
        let mut tenths = [0u32; 10];
        for i in 0..n {
            tenths[usize::from(bucket("other-flag", &i.to_string()) / 1000)] += 1;
        }
        assert!(tenths.iter().all(|c| (1800..=2200).contains(c)), "{tenths:?}");
    }
}
