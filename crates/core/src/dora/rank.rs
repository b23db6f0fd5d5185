//! Nearest-rank percentiles: always a value that was observed, never an interpolation.

/// The `percent`-th percentile of `sorted` (ascending) by the nearest-rank method: the value at
/// the 1-based rank `⌈percent / 100 × n⌉` (at least 1). The median is `percent = 50`, so with
/// an even count it is the lower of the two middle values, not their mean. `None` when empty.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> Option<i64> {
    debug_assert!(sorted.is_sorted(), "nearest_rank needs sorted values");
    sorted.get(rank_index(sorted.len(), percent)?).copied()
}

/// The same percentile as [`nearest_rank`] of `values` in any order, which it reorders:
/// a selection in O(n) instead of a sort.
pub(super) fn select_nearest_rank(values: &mut [i64], percent: u32) -> Option<i64> {
    let index = rank_index(values.len(), percent)?;
    Some(*values.select_nth_unstable(index).1)
}

/// The 0-based index of the nearest rank `⌈percent × n / 100⌉` among `n` values.
fn rank_index(n: usize, percent: u32) -> Option<usize> {
    debug_assert!((1..=100).contains(&percent), "a percentile is 1..=100, not {percent}");
    let rank = (u64::from(percent) * n as u64).div_ceil(100).max(1);
    usize::try_from(rank - 1).ok().filter(|i| *i < n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_examples() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 50), Some(7));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        // n = 4: median rank ⌈2⌉ = 2, p90 rank ⌈3.6⌉ = 4.
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 90), Some(4));
        // n = 10: p90 rank ⌈9⌉ = 9, exactly, not 10.
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        assert_eq!(nearest_rank(&ten, 100), Some(10));
        assert_eq!(nearest_rank(&ten, 1), Some(1));
    }

    proptest! {
        /// The definition itself: at least p % of the values are ≤ the result, and fewer than
        /// p % are < it.
        #[test]
        fn nearest_rank_splits_the_values_at_p_percent(
            mut values in prop::collection::vec(-1000i64..1000, 1..200),
            percent in 1u32..=100,
        ) {
            values.sort_unstable();
            let p = nearest_rank(&values, percent).unwrap();
            let n = values.len() as u64;
            let at_or_below = values.iter().filter(|v| **v <= p).count() as u64;
            let below = values.iter().filter(|v| **v < p).count() as u64;
            prop_assert!(at_or_below * 100 >= u64::from(percent) * n);
            prop_assert!(below * 100 < u64::from(percent) * n);
        }

        #[test]
        fn selection_finds_the_same_value_as_the_sorted_lookup(
            values in prop::collection::vec(-1000i64..1000, 0..200),
            percent in 1u32..=100,
        ) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let mut shuffled = values;
            prop_assert_eq!(select_nearest_rank(&mut shuffled, percent), nearest_rank(&sorted, percent));
        }
    }
}
