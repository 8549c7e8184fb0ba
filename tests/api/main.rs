//! One integration suite, run on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL=postgres://…` is set.

mod helpers;

mod auth;
mod catalogue;
mod claims;
mod cooperatives;
mod delivery;
mod demo;
mod exposure;
mod foundation;
mod fulfilment;
mod hostile_input;
mod inventory;
mod logging;
mod lots;
mod orders;
mod organizations;
mod pages;
mod replicas;
mod reports;
mod schema_check;
mod stored_values;
mod throttle;
mod weighed;
