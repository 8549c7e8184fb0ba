//! Order rules: statuses and their one transition function each, and shipping addresses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::delivery::divisions::{self, Place};
use crate::http::error::ApiError;
use crate::http::text::{Line, Mobile};
use crate::http::validate::Fields;
use crate::vocabulary;

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum OrderStatus as "order status (orders.status)" {
        PendingPayment = "pending_payment",
        Confirmed = "confirmed",
        PartiallyShipped = "partially_shipped",
        Shipped = "shipped",
        Delivered = "delivered",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl OrderStatus {
    /// The one place that says which order status changes are legal.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, ApiError> {
        use OrderStatus::*;
        let ok = matches!(
            (self, to),
            (PendingPayment, Confirmed)
                | (PendingPayment | Confirmed, Cancelled)
                | (Confirmed, PartiallyShipped | Shipped)
                | (PartiallyShipped, PartiallyShipped | Shipped)
                | (Shipped, Delivered)
                | (Delivered, Completed)
        );
        if ok {
            Ok(to)
        } else {
            Err(ApiError::InvalidState(format!(
                "an order that is {} cannot become {}",
                self.as_str(),
                to.as_str()
            )))
        }
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum FulfilmentStatus as "fulfilment status (fulfilments.status)" {
        AwaitingPayment = "awaiting_payment",
        AwaitingShipment = "awaiting_shipment",
        PartiallyShipped = "partially_shipped",
        Shipped = "shipped",
        Delivered = "delivered",
        Cancelled = "cancelled",
    }
}

impl FulfilmentStatus {
    /// The one place that says which fulfilment status changes are legal.
    pub fn transition(self, to: FulfilmentStatus) -> Result<FulfilmentStatus, ApiError> {
        use FulfilmentStatus::*;
        let ok = matches!(
            (self, to),
            (AwaitingPayment, AwaitingShipment)
                | (AwaitingPayment | AwaitingShipment, Cancelled)
                | (AwaitingShipment, PartiallyShipped | Shipped)
                | (PartiallyShipped, PartiallyShipped | Shipped)
                | (Shipped, Delivered)
        );
        if ok {
            Ok(to)
        } else {
            Err(ApiError::InvalidState(format!(
                "a fulfilment that is {} cannot become {}",
                self.as_str(),
                to.as_str()
            )))
        }
    }
}

vocabulary! {
    /// Why money went back: an order cancelled before anything shipped, a weighed parcel
    /// lighter than charged, an approved after-sales claim.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RefundKind as "refund kind (refunds.kind)" {
        Cancellation = "cancellation",
        WeightAdjustment = "weight_adjustment",
        Claim = "claim",
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PaymentStatus as "order payment status (orders.payment_status)" {
        Unpaid = "unpaid",
        Paid = "paid",
        OnTerms = "on_terms",
        Refunded = "refunded",
    }
}

impl PaymentStatus {
    /// The one place that says how an order's payment may change: money arrives (or net-30
    /// terms are settled), and what was paid (or arrived after cancelling) goes back.
    pub fn transition(self, to: PaymentStatus) -> Result<PaymentStatus, ApiError> {
        use PaymentStatus::*;
        if matches!(
            (self, to),
            (Unpaid | OnTerms, Paid) | (Unpaid | Paid, Refunded)
        ) {
            Ok(to)
        } else {
            Err(ApiError::InvalidState(format!(
                "an order whose payment is {self} cannot become {to}"
            )))
        }
    }
}

/// Mainland China's province-level divisions, with the short names people also write.
pub const PROVINCES: &[(&str, &str)] = &[
    ("北京市", "北京"),
    ("天津市", "天津"),
    ("上海市", "上海"),
    ("重庆市", "重庆"),
    ("河北省", "河北"),
    ("山西省", "山西"),
    ("辽宁省", "辽宁"),
    ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"),
    ("江苏省", "江苏"),
    ("浙江省", "浙江"),
    ("安徽省", "安徽"),
    ("福建省", "福建"),
    ("江西省", "江西"),
    ("山东省", "山东"),
    ("河南省", "河南"),
    ("湖北省", "湖北"),
    ("湖南省", "湖南"),
    ("广东省", "广东"),
    ("海南省", "海南"),
    ("四川省", "四川"),
    ("贵州省", "贵州"),
    ("云南省", "云南"),
    ("陕西省", "陕西"),
    ("甘肃省", "甘肃"),
    ("青海省", "青海"),
    ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"),
    ("广西壮族自治区", "广西"),
    ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"),
    ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"),
    ("澳门特别行政区", "澳门"),
];

/// The full name of a province given in full or short form.
pub fn province(s: &str) -> Option<&'static str> {
    PROVINCES
        .iter()
        .find(|(full, short)| *full == s || *short == s)
        .map(|(full, _)| *full)
}

/// An address as sent. With `district_code` the names may be left out (they are filled in)
/// or must agree with it; without it, province, city and district are looked up by name
/// (`汕头市` or `汕头`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct AddressInput {
    pub recipient: Line<50>,
    pub phone: Mobile,
    /// A province of mainland China, in full (`广东省`) or short (`广东`)
    #[schema(schema_with = province_schema)]
    #[serde(default)]
    pub province: Option<String>,
    /// For 北京, 天津, 上海 and 重庆 the province again
    #[serde(default)]
    pub city: Option<Line<50>>,
    /// The district or county; for a city without districts (东莞, 中山) the city again
    #[serde(default)]
    pub district: Option<Line<50>>,
    /// GB/T 2260 code of the district or county (see `GET /divisions`); blank means none
    #[schema(pattern = "^([0-9]{6})?$")]
    #[serde(default)]
    pub district_code: Option<String>,
    pub line1: Line<200>,
    /// Six digits; blank means none
    #[schema(pattern = "^ *([0-9]{6} *)?$")]
    pub postal_code: Option<String>,
}

/// Every name [`province`] accepts.
fn province_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(
            PROVINCES.iter().flat_map(|(full, short)| [*full, *short]),
        ))
        .build()
}

/// A checked shipping address: names are the official ones of `district_code`, `province`
/// its full name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Address {
    pub recipient: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    /// Absent only on orders placed before codes were kept
    #[serde(default)]
    pub district_code: Option<String>,
    pub line1: String,
    pub postal_code: Option<String>,
}

impl Address {
    /// Parses with field names under `prefix` (e.g. `shipping_address.phone`).
    pub fn parse(a: &AddressInput, prefix: &str, f: &mut Fields) -> Option<Address> {
        let at = |k: &str| format!("{prefix}.{k}");
        let recipient = f.check(&at("recipient"), a.recipient.parse());
        let phone = f.check(&at("phone"), a.phone.parse());
        let place = place_of(a, f, &at);
        let line1 = f.check(&at("line1"), a.line1.parse());
        let postal_code = f.check(
            &at("postal_code"),
            match a
                .postal_code
                .as_deref()
                .map(|p| p.trim_matches(' '))
                .filter(|s| !s.is_empty())
            {
                None => Ok(None),
                Some(p) if p.len() == 6 && p.chars().all(|c| c.is_ascii_digit()) => {
                    Ok(Some(p.to_owned()))
                }
                Some(_) => Err("must be six digits"),
            },
        );
        Some(Address {
            recipient: recipient?,
            phone: phone?,
            province: place?.province.to_owned(),
            city: place?.city.to_owned(),
            district: place?.district.to_owned(),
            district_code: Some(place?.district_code.to_owned()),
            line1: line1?,
            postal_code: postal_code?,
        })
    }
}

/// Where an address is, from its code (names checked against it) or from its names.
fn place_of(a: &AddressInput, f: &mut Fields, at: &dyn Fn(&str) -> String) -> Option<Place> {
    let table = divisions::table();
    let province_name = match a.province.as_deref() {
        None | Some("") => None,
        Some(p) => Some(f.check(
            &at("province"),
            province(p).ok_or("must be a province of mainland China, e.g. 广东省"),
        )?),
    };
    let city = match &a.city {
        None => None,
        Some(c) if c.0.is_empty() => None,
        Some(c) => Some(f.check(&at("city"), c.parse())?),
    };
    let district = match &a.district {
        None => None,
        Some(d) if d.0.is_empty() => None,
        Some(d) => Some(f.check(&at("district"), d.parse())?),
    };
    match a.district_code.as_deref().filter(|c| !c.is_empty()) {
        Some(code) => {
            let Some(place) = table.place(code) else {
                f.push(
                    at("district_code"),
                    "is not the code of a district or county (see GET /divisions)",
                );
                return None;
            };
            let disagrees = [
                (
                    "province",
                    province_name.is_some_and(|p| p != place.province),
                ),
                (
                    "city",
                    city.as_deref()
                        .is_some_and(|c| !divisions::names(c, place.city)),
                ),
                (
                    "district",
                    district
                        .as_deref()
                        .is_some_and(|d| !divisions::names(d, place.district)),
                ),
            ];
            let mut ok = true;
            for (field, wrong) in disagrees {
                if wrong {
                    ok = false;
                    f.push(
                        at(field),
                        format!(
                            "does not match district_code {code} ({} {} {})",
                            place.province, place.city, place.district
                        ),
                    );
                }
            }
            ok.then_some(place)
        }
        None => {
            let mut missing = false;
            for (field, given) in [
                ("province", province_name.is_some()),
                ("city", city.is_some()),
                ("district", district.is_some()),
            ] {
                if !given {
                    missing = true;
                    f.push(at(field), "must not be empty (or give district_code)");
                }
            }
            if missing {
                return None;
            }
            match table.find(
                province_name.unwrap_or_default(),
                city.as_deref().unwrap_or_default(),
                district.as_deref().unwrap_or_default(),
            ) {
                Ok(place) => Some(place),
                Err(e) => {
                    f.push(at(e.field), e.message);
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_status_transitions() {
        use PaymentStatus::*;
        assert!(Unpaid.transition(Paid).is_ok());
        assert!(OnTerms.transition(Paid).is_ok());
        assert!(Paid.transition(Refunded).is_ok());
        assert!(Unpaid.transition(Refunded).is_ok());
        assert!(Paid.transition(Paid).is_err());
        assert!(OnTerms.transition(Refunded).is_err());
        assert!(Refunded.transition(Paid).is_err());
    }

    #[test]
    fn order_transitions() {
        use OrderStatus::*;
        assert!(PendingPayment.transition(Confirmed).is_ok());
        assert!(Confirmed.transition(Cancelled).is_ok());
        assert!(Shipped.transition(Cancelled).is_err());
        assert!(PartiallyShipped.transition(Cancelled).is_err());
        assert!(Delivered.transition(Completed).is_ok());
        assert!(Completed.transition(Cancelled).is_err());
        assert!(PendingPayment.transition(Shipped).is_err());
    }

    #[test]
    fn fulfilment_transitions() {
        use FulfilmentStatus::*;
        assert!(AwaitingPayment.transition(Shipped).is_err());
        assert!(AwaitingShipment.transition(PartiallyShipped).is_ok());
        assert!(Shipped.transition(Delivered).is_ok());
    }

    #[test]
    fn provinces_accept_short_names() {
        assert_eq!(province("广东"), Some("广东省"));
        assert_eq!(province("广东省"), Some("广东省"));
        assert_eq!(province("新疆"), Some("新疆维吾尔自治区"));
        assert_eq!(province("火星"), None);
    }

    #[test]
    fn address_names_bad_fields() {
        let mut f = Fields::default();
        let a = AddressInput {
            recipient: "林先生".into(),
            phone: "123".into(),
            province: Some("火星".into()),
            city: Some("汕头市".into()),
            district: Some("金平区".into()),
            district_code: None,
            line1: "长平路 1 号".into(),
            postal_code: Some("51500".into()),
        };
        assert!(Address::parse(&a, "shipping_address", &mut f).is_none());
        let ApiError::Validation(e) = f.finish::<()>(None).unwrap_err() else {
            panic!()
        };
        let fields: Vec<_> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "shipping_address.phone",
                "shipping_address.province",
                "shipping_address.postal_code"
            ]
        );
    }
}
