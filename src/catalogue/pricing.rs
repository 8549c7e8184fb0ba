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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceRefusal {
    /// A retail buyer asked for a wholesale-only SKU.
    WholesaleOnly,
    BelowMinimum(i64),
}

/// The unit price for `quantity` of `sku`: retail buyers pay `price` and may not buy
/// wholesale-only SKUs; business buyers of wholesale SKUs pay the highest tier whose
/// `min_quantity` ≤ quantity (else `price`) and must meet the minimum order quantity.
pub fn unit_price_for(sku: &PricedSku, buyer: Buyer, quantity: i64) -> Result<Money, PriceRefusal> {
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
        }
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
