//! Amounts: integers of a tally's smallest unit, and the unit that names them.
//!
//! A tally counts in whole numbers of its smallest unit. The default unit is
//! the CHIP with scale 3, so `Units(12_500)` is shown as `12.500 CHIP`.
//! Parsing never goes through floating point: `"0.1"` is exactly 100
//! milliCHIPs.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most decimal places a unit may have. Ten to this power still leaves
/// room in an `i64` for amounts in the billions of whole units.
pub const MAX_SCALE: u8 = 9;

/// A signed number of a unit's smallest parts (for CHIP: milliCHIPs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Units(i64);

impl Units {
    /// Zero of any unit.
    pub const ZERO: Units = Units(0);

    /// `parts` smallest parts of a unit.
    pub const fn new(parts: i64) -> Self {
        Units(parts)
    }

    /// The number of smallest parts.
    pub const fn parts(self) -> i64 {
        self.0
    }

    /// Whether this amount is greater than zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The sum, or `None` when it would not fit.
    pub const fn checked_add(self, other: Units) -> Option<Units> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Units(sum)),
            None => None,
        }
    }

    /// The difference, or `None` when it would not fit.
    pub const fn checked_sub(self, other: Units) -> Option<Units> {
        match self.0.checked_sub(other.0) {
            Some(diff) => Some(Units(diff)),
            None => None,
        }
    }
}

/// The unit a tally counts in: a short code and its number of decimal places.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unit {
    code: String,
    scale: u8,
}

/// A unit definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UnitError {
    /// Codes are 1 to 12 ASCII letters or digits, so they read the same everywhere.
    #[error("a unit code is 1 to 12 letters or digits, not {0:?}")]
    BadCode(String),
    /// Too many decimal places.
    #[error("a unit may have at most {MAX_SCALE} decimal places, not {0}")]
    ScaleTooLarge(u8),
}

/// Text that is not an amount of the unit it was given for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    /// Nothing was entered.
    #[error("enter an amount")]
    Empty,
    /// A character that is not a digit, a sign or the decimal point.
    #[error("{0:?} is not a number")]
    NotANumber(String),
    /// More decimal places than the unit has.
    #[error("{code} has at most {scale} decimal places")]
    TooPrecise {
        /// The unit's code.
        code: String,
        /// The unit's scale.
        scale: u8,
    },
    /// The amount does not fit in the ledger's integer range.
    #[error("the amount is too large")]
    TooLarge,
    /// Zero or negative where only a positive amount makes sense.
    #[error("the amount must be more than zero")]
    NotPositive,
}

impl Unit {
    /// The default unit: CHIP with three decimal places.
    pub fn chip() -> Unit {
        Unit {
            code: "CHIP".to_owned(),
            scale: 3,
        }
    }

    /// A unit with the given code and scale.
    pub fn new(code: &str, scale: u8) -> Result<Unit, UnitError> {
        let well_formed = (1..=12).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric());
        if !well_formed {
            return Err(UnitError::BadCode(code.to_owned()));
        }
        if scale > MAX_SCALE {
            return Err(UnitError::ScaleTooLarge(scale));
        }
        Ok(Unit {
            code: code.to_owned(),
            scale,
        })
    }

    /// The unit's code, e.g. `CHIP`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The number of decimal places.
    pub fn scale(&self) -> u8 {
        self.scale
    }

    /// Shows `amount` with all of the unit's decimal places and its code:
    /// `-1.050 CHIP`.
    pub fn format(&self, amount: Units) -> String {
        format!("{} {}", self.format_number(amount), self.code)
    }

    /// Shows `amount` as a plain decimal number without the code.
    pub fn format_number(&self, amount: Units) -> String {
        let divisor = 10u64.pow(u32::from(self.scale));
        let magnitude = amount.0.unsigned_abs();
        let sign = if amount.0 < 0 { "-" } else { "" };
        let whole = magnitude / divisor;
        if self.scale == 0 {
            return format!("{sign}{whole}");
        }
        let fraction = magnitude % divisor;
        format!("{sign}{whole}.{fraction:0width$}", width = usize::from(self.scale))
    }

    /// Reads a decimal number such as `12`, `12.5`, `-0.250` or `.5` as an
    /// exact amount of this unit.
    pub fn parse(&self, text: &str) -> Result<Units, AmountError> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if digits.is_empty() {
            return Err(AmountError::Empty);
        }
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
            return Err(AmountError::NotANumber(text.to_owned()));
        }
        let scale = usize::from(self.scale);
        let significant = fraction.trim_end_matches('0');
        if significant.len() > scale {
            return Err(AmountError::TooPrecise {
                code: self.code.clone(),
                scale: self.scale,
            });
        }
        let mut parts: i64 = 0;
        let padded = significant.chars().chain(std::iter::repeat('0')).take(scale);
        for c in whole.chars().chain(padded) {
            let digit = i64::from(c.to_digit(10).unwrap_or(0));
            parts = parts
                .checked_mul(10)
                .and_then(|p| p.checked_add(digit))
                .ok_or(AmountError::TooLarge)?;
        }
        Ok(Units(if negative { -parts } else { parts }))
    }

    /// Like [`Unit::parse`], for amounts that must be more than zero
    /// (a payment, an invoice).
    pub fn parse_positive(&self, text: &str) -> Result<Units, AmountError> {
        let amount = self.parse(text)?;
        if amount.is_positive() {
            Ok(amount)
        } else {
            Err(AmountError::NotPositive)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chip_formats_with_three_places_and_its_code() {
        let chip = Unit::chip();
        assert_eq!(chip.format(Units::new(12_500)), "12.500 CHIP");
        assert_eq!(chip.format(Units::new(-1_050)), "-1.050 CHIP");
        assert_eq!(chip.format(Units::new(7)), "0.007 CHIP");
        assert_eq!(chip.format(Units::new(i64::MIN)), "-9223372036854775.808 CHIP");
    }

    #[test]
    fn parsing_is_exact_without_floating_point() {
        let chip = Unit::chip();
        assert_eq!(chip.parse("0.1"), Ok(Units::new(100)));
        assert_eq!(chip.parse(".5"), Ok(Units::new(500)));
        assert_eq!(chip.parse("12."), Ok(Units::new(12_000)));
        assert_eq!(chip.parse(" -3.25 "), Ok(Units::new(-3_250)));
        assert_eq!(chip.parse("1.2500"), Ok(Units::new(1_250)));
    }

    #[test]
    fn bad_amounts_are_refused_with_a_reason() {
        let chip = Unit::chip();
        assert_eq!(chip.parse(""), Err(AmountError::Empty));
        assert_eq!(chip.parse("-"), Err(AmountError::Empty));
        assert_eq!(chip.parse("."), Err(AmountError::NotANumber(".".into())));
        assert_eq!(chip.parse("1e3"), Err(AmountError::NotANumber("1e3".into())));
        assert_eq!(chip.parse("1.2.3"), Err(AmountError::NotANumber("1.2.3".into())));
        assert!(matches!(chip.parse("0.0001"), Err(AmountError::TooPrecise { .. })));
        assert_eq!(chip.parse("99999999999999999999"), Err(AmountError::TooLarge));
        assert_eq!(chip.parse_positive("-1"), Err(AmountError::NotPositive));
        assert_eq!(chip.parse_positive("0.000"), Err(AmountError::NotPositive));
    }

    #[test]
    fn unit_definitions_are_checked() {
        assert!(Unit::new("HOURS", 0).is_ok());
        assert_eq!(Unit::new("", 2), Err(UnitError::BadCode(String::new())));
        assert_eq!(Unit::new("€", 2), Err(UnitError::BadCode("€".into())));
        assert_eq!(Unit::new("X", 10), Err(UnitError::ScaleTooLarge(10)));
    }

    proptest! {
        #[test]
        fn format_then_parse_gives_back_the_amount(parts in (i64::MIN + 1)..=i64::MAX, scale in 0u8..=MAX_SCALE) {
            let unit = Unit::new("U", scale).unwrap();
            prop_assert_eq!(unit.parse(&unit.format_number(Units::new(parts))), Ok(Units::new(parts)));
        }

        #[test]
        fn parse_never_panics_on_any_text(text in ".{0,40}") {
            let _ = Unit::chip().parse(&text);
        }
    }
}
