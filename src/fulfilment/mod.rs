//! Fulfilment, the Hegang side: each co-op's shipping queue, parcels with tracking numbers,
//! cold-chain events on the way to Shantou, delivery.

pub mod domain;
pub mod repo;
pub mod routes;
