//! The price rules, in one pure function used by the cart, the checkout preview and orders.

use super::domain::SalesChannel;
use super::product::Tier;
use crate::money::Money;

/// Who is buying: a retail shopper, or a member of an approved organization ordering for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buyer {
    Retail,
    Wholesale,
}

/// What the price rules need to know about a SKU.
#[derive(Debug, Clone)]
pub struct PricedSku {
    pub price: Money,
    pub sales_channel: SalesChannel,
    pub min_order_quantity: Option<i64>,
    /// Sorted by `min_quantity`, ascending.
    pub tiers: Vec<Tier>,
    /// Sold by weight: `price` and tier prices are per kilogram, and a piece weighs this
    /// many grams nominally.
    pub per_kg_grams: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceRefusal {
    /// A retail buyer asked for a wholesale-only SKU.
    WholesaleOnly,
    BelowMinimum(i64),
    /// A weighed piece would cost more than any single amount may.
    TooExpensive,
}

/// The unit price of one piece: [`rate_for`], and for a SKU sold by weight that rate per
/// kilogram times the piece's nominal weight, half up to the fen.
pub fn unit_price_for(sku: &PricedSku, buyer: Buyer, quantity: i64) -> Result<Money, PriceRefusal> {
    let rate = rate_for(sku, buyer, quantity)?;
    match sku.per_kg_grams {
        None => Ok(rate),
        Some(grams) => rate.for_grams(grams).ok_or(PriceRefusal::TooExpensive),
    }
}

/// The price for `quantity` of `sku` (per piece, or per kilogram for weighed goods): retail
/// buyers pay `price` and may not buy wholesale-only SKUs; business buyers of wholesale SKUs
/// pay the highest tier whose `min_quantity` ≤ quantity (else `price`) and must meet the
/// minimum order quantity.
pub fn rate_for(sku: &PricedSku, buyer: Buyer, quantity: i64) -> Result<Money, PriceRefusal> {
    match buyer {
        Buyer::Retail => {
            if sku.sales_channel.sells_retail() {
                Ok(sku.price)
            } else {
                Err(PriceRefusal::WholesaleOnly)
            }
        }
        Buyer::Wholesale => {
            // a retail-only SKU sells to a business at its shelf price, without tiers
            if !sku.sales_channel.sells_wholesale() {
                return Ok(sku.price);
            }
            if let Some(moq) = sku.min_order_quantity {
                if quantity < moq {
                    return Err(PriceRefusal::BelowMinimum(moq));
                }
            }
            Ok(sku
                .tiers
                .iter()
                .filter(|t| t.min_quantity <= quantity)
                .max_by_key(|t| t.min_quantity)
                .map(|t| t.unit_price)
                .unwrap_or(sku.price))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn sack() -> PricedSku {
        PricedSku {
            price: m("200.00"),
            sales_channel: SalesChannel::Wholesale,
            min_order_quantity: Some(5),
            tiers: vec![
                Tier {
                    min_quantity: 10,
                    unit_price: m("190.00"),
                },
                Tier {
                    min_quantity: 50,
                    unit_price: m("175.00"),
                },
            ],
            per_kg_grams: None,
        }
    }

    #[test]
    fn weighed_pieces_cost_their_nominal_weight() {
        let pears = PricedSku {
            per_kg_grams: Some(5_000),
            sales_channel: SalesChannel::Both,
            ..sack()
        };
        // 200.00 a kilo, 5 kg a box; 190.00 a kilo from 10 boxes
        assert_eq!(unit_price_for(&pears, Buyer::Retail, 1), Ok(m("1000.00")));
        assert_eq!(
            unit_price_for(&pears, Buyer::Wholesale, 10),
            Ok(m("950.00"))
        );
        let odd = PricedSku {
            price: m("12.35"),
            per_kg_grams: Some(500),
            sales_channel: SalesChannel::Retail,
            ..sack()
        };
        assert_eq!(unit_price_for(&odd, Buyer::Retail, 1), Ok(m("6.18")));
    }

    #[test]
    fn tier_boundaries() {
        let s = sack();
        assert_eq!(unit_price_for(&s, Buyer::Wholesale, 5), Ok(m("200.00")));
        assert_eq!(unit_price_for(&s, Buyer::Wholesale, 9), Ok(m("200.00")));
        assert_eq!(unit_price_for(&s, Buyer::Wholesale, 10), Ok(m("190.00")));
        assert_eq!(unit_price_for(&s, Buyer::Wholesale, 49), Ok(m("190.00")));
        assert_eq!(unit_price_for(&s, Buyer::Wholesale, 50), Ok(m("175.00")));
    }

    #[test]
    fn minimum_and_channels() {
        let s = sack();
        assert_eq!(
            unit_price_for(&s, Buyer::Wholesale, 4),
            Err(PriceRefusal::BelowMinimum(5))
        );
        assert_eq!(
            unit_price_for(&s, Buyer::Retail, 100),
            Err(PriceRefusal::WholesaleOnly)
        );
        let both = PricedSku {
            sales_channel: SalesChannel::Both,
            ..sack()
        };
        assert_eq!(unit_price_for(&both, Buyer::Retail, 100), Ok(m("200.00")));
        let retail = PricedSku {
            sales_channel: SalesChannel::Retail,
            ..sack()
        };
        assert_eq!(
            unit_price_for(&retail, Buyer::Wholesale, 100),
            Ok(m("200.00"))
        );
    }
}
