//! Point arithmetic of recognition that needs no database.

use crate::{Error, Result};

/// Divides a pot of `total` points among `recipients` people. Everyone gets
/// the same whole share; the remainder goes one point each to the first
/// recipients in the order they were named, so the shares always add up to
/// exactly `total` and differ by at most one point.
pub fn split_pot(total: i64, recipients: usize) -> Result<Vec<i64>> {
    if recipients == 0 {
        return Err(Error::invalid("recipients", "name at least one recipient"));
    }
    if total < 0 {
        return Err(Error::invalid("points", "points cannot be negative"));
    }
    let n = recipients as i64;
    let (share, remainder) = (total / n, total % n);
    Ok((0..n).map(|i| share + i64::from(i < remainder)).collect())
}

/// The emoji a reaction counts as: skin-tone modifiers (U+1F3FB–U+1F3FF) are
/// dropped, so 👍🏽 and 👍 are one reaction.
pub fn base_emoji(emoji: &str) -> String {
    emoji.chars().filter(|c| !('\u{1F3FB}'..='\u{1F3FF}').contains(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pot_is_split_without_losing_or_creating_points() {
        assert_eq!(split_pot(100, 3).unwrap(), vec![34, 33, 33]);
        assert_eq!(split_pot(2, 3).unwrap(), vec![1, 1, 0]);
        assert_eq!(split_pot(90, 3).unwrap(), vec![30, 30, 30]);
        for total in 0..50 {
            for n in 1..8 {
                let shares = split_pot(total, n).unwrap();
                assert_eq!(shares.iter().sum::<i64>(), total);
                assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
            }
        }
        assert!(split_pot(10, 0).is_err());
        assert!(split_pot(-1, 2).is_err());
    }

    #[test]
    fn skin_tones_count_as_their_base_emoji() {
        assert_eq!(base_emoji("👍🏽"), "👍");
        assert_eq!(base_emoji("👍"), "👍");
        assert_eq!(base_emoji("👩🏿‍💻"), "👩‍💻");
        assert_eq!(base_emoji("🏆"), "🏆");
    }
}
