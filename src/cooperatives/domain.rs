//! What a co-operative, a membership and a warehouse may be.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::domain::Email;
use crate::auth::CoopRole;
use crate::http::error::ApiError;
use crate::http::validate::{bounded_text, optional_text, phone, Fields};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateCooperative {
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
}

pub struct NewCooperative {
    pub name: String,
    pub province: String,
    pub city: String,
    pub county: String,
    pub description: Option<String>,
    pub contact_phone: Option<String>,
}

impl TryFrom<CreateCooperative> for NewCooperative {
    type Error = ApiError;
    fn try_from(r: CreateCooperative) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let name = f.check("name", bounded_text(&r.name, 100));
        let province = f.check("province", bounded_text(&r.province, 50));
        let city = f.check("city", bounded_text(&r.city, 50));
        let county = f.check("county", bounded_text(&r.county, 50));
        let description = f.check("description", optional_text(r.description.as_deref(), 2000));
        let contact_phone = f.check(
            "contact_phone",
            match r
                .contact_phone
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => Ok(None),
                Some(p) => phone(p).map(Some),
            },
        );
        let value = (|| {
            Some(NewCooperative {
                name: name?,
                province: province?,
                city: city?,
                county: county?,
                description: description?,
                contact_phone: contact_phone?,
            })
        })();
        f.finish(value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMember {
    pub email: String,
    /// `owner` or `staff`
    pub role: String,
}

pub struct NewMember {
    pub email: Email,
    pub role: CoopRole,
}

impl TryFrom<AddMember> for NewMember {
    type Error = ApiError;
    fn try_from(r: AddMember) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let email = f.check("email", Email::parse(&r.email));
        let role = f.check(
            "role",
            CoopRole::parse(r.role.trim()).ok_or("must be \"owner\" or \"staff\""),
        );
        let value = (|| {
            Some(NewMember {
                email: email?,
                role: role?,
            })
        })();
        f.finish(value)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWarehouse {
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
}

pub struct NewWarehouse {
    pub name: String,
    pub address: String,
    pub cold_storage: bool,
}

impl TryFrom<CreateWarehouse> for NewWarehouse {
    type Error = ApiError;
    fn try_from(r: CreateWarehouse) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        let name = f.check("name", bounded_text(&r.name, 100));
        let address = f.check("address", bounded_text(&r.address, 300));
        let value = (|| {
            Some(NewWarehouse {
                name: name?,
                address: address?,
                cold_storage: r.cold_storage,
            })
        })();
        f.finish(value)
    }
}
