//! Owns `shipments`, `shipment_items`, `shipment_events`. Fulfilment, the Hegang side: each
//! co-op's shipping queue, parcels with tracking numbers, cold-chain events on the way to
//! Shantou, delivery. Orders' rows change only through orders' functions.

pub(crate) mod domain;
pub(crate) mod repo;
pub(crate) mod routes;
pub(crate) mod trace;
pub(crate) mod views;
