//! What an order asks for: lines of SKU and quantity, checked once into [`Lines`] before any
//! pricing or stock is looked at.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::FieldError;
use crate::ids::SkuId;

pub const MAX_LINES: usize = 200;
pub const MAX_QUANTITY: i64 = 100_000;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct LineInput {
    pub sku_id: SkuId,
    #[schema(minimum = 1, maximum = 100_000)]
    pub quantity: i64,
}

/// Order lines that passed the basic checks: at least one, at most [`MAX_LINES`], each
/// quantity in range, no SKU twice. Only [`Lines::parse`] makes one, so they are checked once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lines(Vec<LineInput>);

impl Lines {
    pub fn parse(lines: Vec<LineInput>) -> Result<Lines, Vec<FieldError>> {
        let mut errors = Vec::new();
        if lines.is_empty() {
            errors.push(FieldError::new(
                "items",
                "the order has no items (and the cart is empty)",
            ));
        }
        if lines.len() > MAX_LINES {
            errors.push(FieldError::new(
                "items",
                format!("at most {MAX_LINES} lines"),
            ));
        }
        for (i, l) in lines.iter().enumerate() {
            if !(1..=MAX_QUANTITY).contains(&l.quantity) {
                errors.push(FieldError::new(
                    format!("items[{i}].quantity"),
                    format!("must be between 1 and {MAX_QUANTITY}"),
                ));
            }
            if lines[..i].iter().any(|o| o.sku_id == l.sku_id) {
                errors.push(FieldError::new(
                    format!("items[{i}].sku_id"),
                    "appears twice; combine the lines",
                ));
            }
        }
        if errors.is_empty() {
            Ok(Lines(lines))
        } else {
            Err(errors)
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, LineInput> {
        self.0.iter()
    }

    pub fn sku_ids(&self) -> Vec<SkuId> {
        self.0.iter().map(|l| l.sku_id).collect()
    }

    pub fn get(&self, index: usize) -> Option<&LineInput> {
        self.0.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_and_bad_quantities_are_refused() {
        let id = SkuId::generate();
        let lines = vec![
            LineInput {
                sku_id: id,
                quantity: 0,
            },
            LineInput {
                sku_id: id,
                quantity: 2,
            },
        ];
        let errors = Lines::parse(lines).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["items[0].quantity", "items[1].sku_id"]);
    }

    #[test]
    fn no_lines_and_too_many_lines_are_refused() {
        assert_eq!(Lines::parse(vec![]).unwrap_err()[0].field, "items");
        let many = (0..=MAX_LINES)
            .map(|_| LineInput {
                sku_id: SkuId::generate(),
                quantity: 1,
            })
            .collect();
        assert_eq!(Lines::parse(many).unwrap_err()[0].field, "items");
    }
}
