//! Trading variables: how a side wants lifts to move its balance, and what
//! it charges for them.

use crate::Units;

/// A fraction in millionths: `Rate::new(5_000)` is 0.5 %.
///
/// Fees of trading variables are fractions in `[-1, 1]`; millionths keep
/// them exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(i32);

impl Rate {
    /// One whole: 100 %.
    pub const ONE: Rate = Rate(1_000_000);
    /// Nothing.
    pub const ZERO: Rate = Rate(0);

    /// A rate of `millionths` millionths.
    pub const fn new(millionths: i32) -> Rate {
        Rate(millionths)
    }

    /// The rate in millionths.
    pub const fn millionths(self) -> i32 {
        self.0
    }

    /// Whether the rate lies in `[-1, 1]`.
    pub const fn is_fraction(self) -> bool {
        self.0 >= -Rate::ONE.0 && self.0 <= Rate::ONE.0
    }
}

/// One side's trading variables, set by its setting chits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TradingVariables {
    /// The balance this side wants to reach through lifts.
    pub target: Units,
    /// The most this side accepts through lifts.
    pub bound: Units,
    /// The fee for lifting beyond the target.
    pub reward: Rate,
    /// The fee for reverse lifts.
    pub clutch: Rate,
}

impl TradingVariables {
    /// Checks the bounds: `0 ≤ target ≤ bound`, reward and clutch in
    /// `[-1, 1]`, `reward + clutch ≥ 0` (no lift may pay for itself in a
    /// loop of reverse and forward lifts).
    pub fn check(&self) -> Result<(), String> {
        if self.target.parts() < 0 {
            return Err("the target cannot be negative".into());
        }
        if self.target > self.bound {
            return Err("the target cannot be above the bound".into());
        }
        if !self.reward.is_fraction() || !self.clutch.is_fraction() {
            return Err("reward and clutch are fractions between -1 and 1".into());
        }
        if i64::from(self.reward.millionths()) + i64::from(self.clutch.millionths()) < 0 {
            return Err("reward and clutch together cannot be negative".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn variables(target: i64, bound: i64, reward: i32, clutch: i32) -> TradingVariables {
        TradingVariables {
            target: Units::new(target),
            bound: Units::new(bound),
            reward: Rate::new(reward),
            clutch: Rate::new(clutch),
        }
    }

    #[test]
    fn the_defaults_are_within_bounds() {
        assert!(TradingVariables::default().check().is_ok());
    }

    #[test]
    fn each_bound_is_enforced() {
        assert!(variables(-1, 0, 0, 0).check().is_err(), "negative target");
        assert!(variables(5, 4, 0, 0).check().is_err(), "target above bound");
        assert!(variables(0, 0, 1_000_001, 0).check().is_err(), "reward above 1");
        assert!(variables(0, 0, 0, -1_000_001).check().is_err(), "clutch below -1");
        assert!(variables(0, 0, -10, 5).check().is_err(), "reward + clutch below 0");
        assert!(variables(0, 10, -10, 10).check().is_ok(), "reward + clutch exactly 0");
    }

    proptest! {
        /// `check` accepts exactly the variables inside the documented bounds.
        #[test]
        fn check_matches_the_documented_bounds(
            target in -5i64..100, bound in -5i64..100,
            reward in -1_200_000i32..1_200_000, clutch in -1_200_000i32..1_200_000,
        ) {
            let inside = (0..=bound).contains(&target)
                && (-1_000_000..=1_000_000).contains(&reward)
                && (-1_000_000..=1_000_000).contains(&clutch)
                && i64::from(reward) + i64::from(clutch) >= 0;
            prop_assert_eq!(variables(target, bound, reward, clutch).check().is_ok(), inside);
        }
    }
}
