//! Money: CNY held as whole fen (分), parsed from and shown as two-decimal yuan strings.
//! Never a float; arithmetic that can overflow says so.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// The largest amount accepted from a client: 100 million yuan.
const MAX_FEN: i64 = 10_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

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

    /// Rounds a decimal yuan amount to the fen, half away from zero.
    pub fn round_from(yuan: Decimal) -> Option<Money> {
        let fen = (yuan * Decimal::ONE_HUNDRED)
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
        let s = s.trim();
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
        let fen = (d * Decimal::ONE_HUNDRED)
            .to_i64()
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
            .pattern(Some(r"^\d+(\.\d{1,2})?$"))
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
    fn rounds_half_up_to_the_fen() {
        let d = Decimal::from_str("0.125").unwrap();
        assert_eq!(Money::round_from(d).unwrap().fen(), 13);
        let d = Decimal::from_str("0.124").unwrap();
        assert_eq!(Money::round_from(d).unwrap().fen(), 12);
    }
}
