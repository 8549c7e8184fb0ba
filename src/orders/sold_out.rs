//! Sold-out answers in one read. Every order is planned before its write transaction, so a
//! sold-out order never writes; but the plan reads SKUs, prices and stock by warehouse. A SKU
//! that has just come up short is remembered for a moment; while it is, an order naming it
//! first reads only what is available in total and gets its 409 from that when the stock
//! clearly cannot cover it (a live-stream flash sale: thousands of taps after the last unit).
//! Everything else is planned as usual, and the conditional update still decides.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::allocation::{insufficient, Shortage};
use super::lines::LineInput;
use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::SkuId;
use crate::inventory;

/// How long a shortage makes orders for the SKU read first. The read itself is always fresh,
/// so this only decides whether to look before writing.
const REMEMBER: Duration = Duration::from_secs(2);

static SHORT: LazyLock<Mutex<HashMap<SkuId, Instant>>> = LazyLock::new(Default::default);

/// Notes the SKUs a 409 `insufficient_stock` names.
pub fn remember(error: &ApiError) {
    let ApiError::InsufficientStock { extra, .. } = error else {
        return;
    };
    let now = Instant::now();
    let Ok(mut short) = SHORT.lock() else { return };
    short.retain(|_, at| now.duration_since(*at) < REMEMBER);
    for s in extra["shortages"].as_array().into_iter().flatten() {
        if let Some(id) = s["sku_id"].as_str().and_then(|id| id.parse().ok()) {
            short.insert(id, now);
        }
    }
}

fn recently_short(lines: &[LineInput]) -> bool {
    let now = Instant::now();
    SHORT.lock().is_ok_and(|short| {
        lines.iter().any(|l| {
            short
                .get(&l.sku_id)
                .is_some_and(|at| now.duration_since(*at) < REMEMBER)
        })
    })
}

/// For lines naming a recently short SKU: a 409 when the stock of every warehouse together
/// is below what a line asks (so the write could only fail); `Ok` otherwise.
pub fn check(conn: &mut DbConn, lines: &[LineInput]) -> Result<(), ApiError> {
    if lines.is_empty() || !recently_short(lines) {
        return Ok(());
    }
    let ids: Vec<SkuId> = lines.iter().map(|l| l.sku_id).collect();
    // what could be sold today at most (a lot-tracked SKU: its active, in-date lots), so a
    // 409 from here never refuses an order the write would take
    let stock = inventory::repo::available_by_sku(conn, &ids)?;
    let shortages: Vec<Shortage> = lines
        .iter()
        .enumerate()
        .filter_map(|(index, l)| {
            let available: i64 = stock.get(&l.sku_id).copied().unwrap_or(0).max(0);
            (available < l.quantity).then_some(Shortage {
                sku_id: l.sku_id,
                requested: l.quantity,
                available,
                index,
            })
        })
        .collect();
    if shortages.is_empty() {
        Ok(())
    } else {
        Err(insufficient(shortages))
    }
}
