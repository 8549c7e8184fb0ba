//! Queries for co-operatives, their members and warehouses.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::domain::{CommissionRate, CooperativeStatus, NewCooperative, NewWarehouse};
use crate::db::schema::{cooperatives, warehouses};
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::http::pagination::{Page, Paginated};
use crate::ids::{CooperativeId, WarehouseId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cooperatives)]
pub struct CooperativeRow {
    pub id: CooperativeId,
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
    pub status: CooperativeStatus,
    pub created_at: NaiveDateTime,
    pub commission_rate: Option<CommissionRate>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = warehouses)]
pub struct WarehouseRow {
    pub id: WarehouseId,
    pub cooperative_id: CooperativeId,
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, c: &NewCooperative) -> Result<CooperativeRow, ApiError> {
    let row = CooperativeRow {
        id: CooperativeId::generate(),
        name: c.name.clone(),
        province: c.province.clone(),
        city: c.city.clone(),
        county: c.county.clone(),
        description: c.description.clone(),
        contact_phone: c.contact_phone.clone(),
        status: CooperativeStatus::Active,
        created_at: db::now(),
        commission_rate: None,
    };
    diesel::insert_into(cooperatives::table)
        .values((
            cooperatives::id.eq(row.id),
            cooperatives::name.eq(&row.name),
            cooperatives::province.eq(&row.province),
            cooperatives::city.eq(&row.city),
            cooperatives::county.eq(&row.county),
            cooperatives::description.eq(&row.description),
            cooperatives::contact_phone.eq(&row.contact_phone),
            cooperatives::status.eq(row.status),
            cooperatives::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut DbConn, id: CooperativeId) -> Result<Option<CooperativeRow>, ApiError> {
    Ok(cooperatives::table
        .find(id)
        .select(CooperativeRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<CooperativeId>, ApiError> {
    Ok(cooperatives::table
        .filter(cooperatives::name.eq(name))
        .select(cooperatives::id)
        .first(conn)
        .optional()?)
}

/// A co-op's name, or 404.
pub fn name_of(conn: &mut DbConn, id: CooperativeId) -> Result<String, ApiError> {
    Ok(cooperatives::table
        .find(id)
        .select(cooperatives::name)
        .first(conn)?)
}

/// The co-op, or 404.
pub fn get(conn: &mut DbConn, id: CooperativeId) -> Result<CooperativeRow, ApiError> {
    find(conn, id)?.ok_or(ApiError::NotFound)
}

pub fn list(conn: &mut DbConn, page: &Page) -> Result<Paginated<CooperativeRow>, ApiError> {
    let mut q = cooperatives::table
        .filter(cooperatives::status.eq(CooperativeStatus::Active))
        .select(CooperativeRow::as_select())
        .order(cooperatives::id.asc())
        .into_boxed();
    if let Some(after) = page.after.as_ref().and_then(|a| a.first()) {
        q = q.filter(cooperatives::id.gt(after.clone()));
    }
    let rows = crate::db::prepared::load_limited(conn, q, page.fetch_limit(), false)?;
    Ok(page.finish(rows, |r| vec![r.id.to_string()]))
}

pub fn insert_warehouse(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
    w: &NewWarehouse,
) -> Result<WarehouseRow, ApiError> {
    let row = WarehouseRow {
        id: WarehouseId::generate(),
        cooperative_id,
        name: w.name.clone(),
        address: w.address.clone(),
        cold_storage: w.cold_storage,
        created_at: db::now(),
    };
    diesel::insert_into(warehouses::table)
        .values((
            warehouses::id.eq(row.id),
            warehouses::cooperative_id.eq(row.cooperative_id),
            warehouses::name.eq(&row.name),
            warehouses::address.eq(&row.address),
            warehouses::cold_storage.eq(row.cold_storage),
            warehouses::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(row)
}

pub fn warehouses_of(
    conn: &mut DbConn,
    cooperative_id: CooperativeId,
) -> Result<Vec<WarehouseRow>, ApiError> {
    Ok(warehouses::table
        .filter(warehouses::cooperative_id.eq(cooperative_id))
        .order(warehouses::id.asc())
        .select(WarehouseRow::as_select())
        .load(conn)?)
}

pub fn set_commission_rate(
    conn: &mut DbConn,
    id: CooperativeId,
    rate: Option<CommissionRate>,
) -> Result<(), ApiError> {
    diesel::update(cooperatives::table.find(id))
        .set(cooperatives::commission_rate.eq(rate))
        .execute(conn)?;
    Ok(())
}

/// The co-op's cold-truck timetable as stored (JSON), if it has one.
pub fn departures_of(conn: &mut DbConn, id: CooperativeId) -> Result<Option<String>, ApiError> {
    cooperatives::table
        .find(id)
        .select(cooperatives::departures)
        .first::<Option<String>>(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Replaces the co-op's timetable (`None`: no timetable).
pub fn set_departures(
    conn: &mut DbConn,
    id: CooperativeId,
    timetable: Option<&str>,
) -> Result<(), ApiError> {
    diesel::update(cooperatives::table.find(id))
        .set(cooperatives::departures.eq(timetable))
        .execute(conn)?;
    Ok(())
}
