//! Net-30 credit: an organization's open on-terms total moves by single conditional UPDATEs,
//! so concurrent orders cannot together pass the limit.

use diesel::prelude::*;

use crate::db::schema::organizations;
use crate::db::{self, DbConn};
use crate::http::error::ApiError;
use crate::ids::OrganizationId;

/// Takes `amount` fen of credit if it fits under the limit (an organization approved for
/// net-30 without a limit has none); false when it does not.
pub fn reserve(
    conn: &mut DbConn,
    organization_id: OrganizationId,
    amount: i64,
) -> Result<bool, ApiError> {
    let n = diesel::update(
        organizations::table
            .filter(organizations::id.eq(organization_id))
            .filter(
                organizations::credit_limit
                    .is_null()
                    .or((organizations::credit_used + amount)
                        .le(organizations::credit_limit.assume_not_null())),
            ),
    )
    .set((
        organizations::credit_used.eq(organizations::credit_used + amount),
        organizations::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives credit back (an on-terms order paid or cancelled).
pub fn release(
    conn: &mut DbConn,
    organization_id: OrganizationId,
    amount: i64,
) -> Result<(), ApiError> {
    diesel::update(
        organizations::table
            .filter(organizations::id.eq(organization_id))
            .filter(organizations::credit_used.ge(amount)),
    )
    .set((
        organizations::credit_used.eq(organizations::credit_used - amount),
        organizations::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    Ok(())
}
