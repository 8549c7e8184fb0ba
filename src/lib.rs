//! 汕鹤优选 — the marketplace where Shantou orders and Hegang ships.

pub mod aftersales;
pub mod app;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod cooperatives;
pub mod db;
pub mod delivery;
pub mod fulfilment;
pub mod http;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod orders;
pub mod organizations;
pub mod pages;
pub mod payments;
pub mod reports;
pub mod tools;
