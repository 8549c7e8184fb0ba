//! Money: CNY held as whole fen (分), parsed from and shown as two-decimal yuan strings.
//! Never a float; arithmetic that can overflow says so.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// The largest amount the marketplace deals in: 100 million yuan. A price, a line, an order
/// total, a credit limit and a payment are each at most this; sums of many (reports) are
/// computed wider.
const MAX_FEN: i64 = 10_000_000_000;

/// Longer input is no amount this marketplace takes (and is not worth parsing).
const MAX_INPUT_LEN: usize = 24;

impl Money {
    pub const ZERO: Money = Money(0);
    pub const MAX: Money = Money(MAX_FEN);

    /// `self` when it is within the ceiling every single amount keeps to.
    pub fn within_ceiling(self) -> Option<Money> {
        (0..=MAX_FEN).contains(&self.0).then_some(self)
    }

    pub fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn as_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    /// What `grams` cost at `self` per kilogram, rounded half up to the fen (the one rule for
    /// weighed goods: a piece's nominal price, a parcel's actual price); `None` past the
    /// ceiling of a single amount.
    pub fn for_grams(self, grams: i64) -> Option<Money> {
        if grams < 0 || self.0 < 0 {
            return None;
        }
        let fen = (i128::from(self.0) * i128::from(grams) + 500) / 1000;
        i64::try_from(fen).ok().map(Money)?.within_ceiling()
    }

    /// Rounds a decimal yuan amount to the fen, half away from zero.
    pub fn round_from(yuan: Decimal) -> Option<Money> {
        let fen = yuan
            .checked_mul(Decimal::ONE_HUNDRED)?
            .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        fen.to_i64().map(Money)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError(&'static str);

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_INPUT_LEN {
            return Err(MoneyError("is too large"));
        }
        if s.is_empty()
            || !s.chars().all(|c| c.is_ascii_digit() || c == '.')
            || s.starts_with('.')
            || s.ends_with('.')
        {
            return Err(MoneyError(
                "must be a non-negative amount in yuan as a string, e.g. \"12.50\"",
            ));
        }
        let d = Decimal::from_str(s).map_err(|_| MoneyError("is not a valid amount"))?;
        if d.scale() > 2 {
            return Err(MoneyError("must have at most two decimals"));
        }
        let fen = d
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|f| f.to_i64())
            .filter(|f| *f <= MAX_FEN)
            .ok_or(MoneyError("is too large"))?;
        Ok(Money(fen))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Money;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount in yuan as a string, e.g. \"12.50\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Money, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?[0-9]+\.[0-9]{2}$"))
            .description(Some("CNY in yuan with two decimals"))
            .examples([serde_json::json!("12.50")])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_strings() {
        assert_eq!("12.50".parse::<Money>().unwrap().fen(), 1250);
        assert_eq!("12.5".parse::<Money>().unwrap().fen(), 1250);
        assert_eq!("7".parse::<Money>().unwrap().fen(), 700);
        assert_eq!("0.01".parse::<Money>().unwrap().fen(), 1);
    }

    #[test]
    fn rejects_bad_amounts() {
        for bad in ["-1.00", "1.234", "", "abc", "1e3", ".5", "5.", "1,00"] {
            assert!(bad.parse::<Money>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shows_two_decimals() {
        assert_eq!(Money::from_fen(1250).to_string(), "12.50");
        assert_eq!(Money::from_fen(5).to_string(), "0.05");
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
    }

    #[test]
    fn json_number_is_refused() {
        assert!(serde_json::from_str::<Money>("12.5").is_err());
        assert_eq!(
            serde_json::from_str::<Money>("\"12.5\"").unwrap().fen(),
            1250
        );
    }

    #[test]
    fn huge_amounts_are_refused_not_a_panic() {
        for huge in [
            "79228162514264337593543950335",
            "79228162514264337593543950335.99",
            "99999999999999999999",
            "100000000.01",
            "0000000000000000000000000001",
        ] {
            assert_eq!(
                huge.parse::<Money>(),
                Err(MoneyError("is too large")),
                "{huge}"
            );
        }
        assert_eq!("100000000.00".parse::<Money>(), Ok(Money::MAX));
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(s in "\\PC{0,40}") {
            let _ = s.parse::<Money>();
        }

        #[test]
        fn parsing_digit_strings_never_panics(s in "[0-9]{0,40}(\\.[0-9]{0,4})?") {
            let _ = s.parse::<Money>();
        }

        #[test]
        fn every_amount_in_range_round_trips(fen in 0i64..=MAX_FEN) {
            let shown = Money(fen).to_string();
            proptest::prop_assert_eq!(shown.parse::<Money>(), Ok(Money(fen)));
        }
    }

    #[test]
    fn weighed_prices_round_half_up_to_the_fen() {
        let per_kg: Money = "12.35".parse().unwrap();
        // 12.35 × 0.5 = 6.175 → 6.18
        assert_eq!(per_kg.for_grams(500).unwrap().fen(), 618);
        // 12.35 × 4.6 = 56.81 exactly
        assert_eq!(per_kg.for_grams(4600).unwrap().fen(), 5681);
        // 0.01 × 0.499 kg = 0.00499 → 0.00
        assert_eq!(Money::from_fen(1).for_grams(499).unwrap().fen(), 0);
        assert_eq!(Money::from_fen(1).for_grams(500).unwrap().fen(), 1);
        assert_eq!(Money::MAX.for_grams(2_000_000), None);
        assert_eq!(per_kg.for_grams(-1), None);
    }

    #[test]
    fn rounds_half_up_to_the_fen() {
        let d = Decimal::from_str("0.125").unwrap();
        assert_eq!(Money::round_from(d).unwrap().fen(), 13);
        let d = Decimal::from_str("0.124").unwrap();
        assert_eq!(Money::round_from(d).unwrap().fen(), 12);
    }
}
