//! Owns `departures`, `departure_bookings`. Delivery: where an address is (GB/T 2260 division
//! codes), the co-ops' cold-truck timetables, and when a parcel ships and arrives.

pub(crate) mod departures;
pub(crate) mod divisions;
pub(crate) mod routes;
