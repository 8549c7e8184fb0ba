//! Claim rules: the words a claim is made of, who may move it where (one transition
//! function), what a claimed unit is worth, and what an opening request may say.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::text::{ImageUrl, Prose};
use crate::http::validate::Fields;
use crate::ids::OrderItemId;
use crate::money::Money;
use crate::vocabulary;

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ClaimKind as "claim kind (claims.kind)" {
        RefundOnly = "refund_only",
        ReturnAndRefund = "return_and_refund",
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ClaimReason as "claim reason (claims.reason)" {
        Damaged = "damaged",
        Spoiled = "spoiled",
        Short = "short",
        Temperature = "temperature",
        Quality = "quality",
        Other = "other",
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ClaimOrigin as "claim origin (claims.origin)" {
        Buyer = "buyer",
        ColdChain = "cold_chain",
        Inspection = "inspection",
    }
}

vocabulary! {
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ClaimStatus as "claim status (claims.status)" {
        Open = "open",
        Approved = "approved",
        Rejected = "rejected",
        AwaitingReturn = "awaiting_return",
        Escalated = "escalated",
    }
}

/// What someone asks of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAction {
    Approve,
    Reject,
    Escalate,
    ReceiveReturn,
}

/// Who asks: the co-op whose goods it is about, a platform admin, or the buyer's side (the
/// buyer and the members of the order's organization).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimActor {
    Cooperative,
    Admin,
    Buyer,
}

impl ClaimStatus {
    /// The one place that says how a claim moves: the co-op (or an admin) decides an open
    /// claim, a rejected one may be escalated by the buyer and is then the admin's to decide,
    /// and a return-and-refund claim waits for the goods before it is approved.
    pub fn transition(
        self,
        action: ClaimAction,
        kind: ClaimKind,
        actor: ClaimActor,
    ) -> Result<ClaimStatus, ApiError> {
        use ClaimAction as A;
        use ClaimActor as W;
        use ClaimStatus as S;
        let approved = match kind {
            ClaimKind::RefundOnly => S::Approved,
            ClaimKind::ReturnAndRefund => S::AwaitingReturn,
        };
        let to = match (self, action, actor) {
            (S::Open, A::Approve, W::Cooperative | W::Admin) => approved,
            (S::Escalated, A::Approve, W::Admin) => approved,
            (S::Open, A::Reject, W::Cooperative | W::Admin) => S::Rejected,
            (S::Escalated, A::Reject, W::Admin) => S::Rejected,
            (S::Rejected, A::Escalate, W::Buyer) => S::Escalated,
            (S::AwaitingReturn, A::ReceiveReturn, W::Cooperative | W::Admin) => S::Approved,
            (from, action, _) => {
                return Err(ApiError::InvalidState(format!(
                    "a claim that is {from} cannot be {}{}",
                    match action {
                        A::Approve => "approved",
                        A::Reject => "rejected",
                        A::Escalate => "escalated",
                        A::ReceiveReturn => "marked returned",
                    },
                    if matches!(
                        from,
                        S::Open | S::Escalated | S::Rejected | S::AwaitingReturn
                    ) {
                        " by you"
                    } else {
                        ""
                    }
                )))
            }
        };
        Ok(to)
    }

    /// Statuses whose units stay under claim (a rejected claim frees them).
    pub fn holds_units(self) -> bool {
        !matches!(self, ClaimStatus::Rejected)
    }
}

/// What `quantity` of an item's `quantity_ordered` units are worth at its final
/// (weight-adjusted) total, half up to the fen.
pub fn units_worth(final_total: i64, quantity_ordered: i64, quantity: i64) -> i64 {
    if quantity_ordered <= 0 {
        return 0;
    }
    let num = i128::from(final_total) * i128::from(quantity);
    let den = i128::from(quantity_ordered);
    i64::try_from((2 * num + den) / (2 * den)).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ClaimLine {
    pub order_item_id: OrderItemId,
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub quantity: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OpenClaim {
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    #[schema(min_items = 1, max_items = 200)]
    pub items: Vec<ClaimLine>,
    pub note: Option<Prose<1000>>,
    /// Photos of what arrived: http or https addresses, at most 10.
    #[schema(max_items = 10)]
    pub evidence: Option<Vec<ImageUrl>>,
}

/// A checked request to open a claim.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub kind: ClaimKind,
    pub reason: ClaimReason,
    pub items: Vec<ClaimLine>,
    pub note: Option<String>,
    pub evidence: Vec<String>,
}

impl TryFrom<OpenClaim> for ClaimRequest {
    type Error = ApiError;
    fn try_from(r: OpenClaim) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        if r.items.is_empty() || r.items.len() > 200 {
            f.push("items", "a claim names 1 to 200 items");
        }
        for (i, l) in r.items.iter().enumerate() {
            if !(1..=10_000_000).contains(&l.quantity) {
                f.push(
                    format!("items[{i}].quantity"),
                    "must be between 1 and 10,000,000",
                );
            }
            if r.items[..i]
                .iter()
                .any(|o| o.order_item_id == l.order_item_id)
            {
                f.push(format!("items[{i}].order_item_id"), "appears twice");
            }
        }
        let note = f.check("note", Prose::parse_opt(&r.note));
        let evidence = r.evidence.unwrap_or_default();
        if evidence.len() > 10 {
            f.push("evidence", "at most 10 addresses");
        }
        let mut urls = Vec::new();
        for (i, e) in evidence.iter().enumerate() {
            if let Some(u) = f.check(&format!("evidence[{i}]"), e.parse()) {
                urls.push(u);
            }
        }
        let value = note.map(|note| ClaimRequest {
            kind: r.kind,
            reason: r.reason,
            items: r.items,
            note,
            evidence: urls,
        });
        f.finish(value)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ApproveClaim {
    /// At most the requested amount (default: all of it).
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct RejectClaim {
    pub reason: Prose<500>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_moves_a_claim_where() {
        use ClaimAction as A;
        use ClaimActor as W;
        use ClaimStatus as S;
        let r = ClaimKind::RefundOnly;
        let rr = ClaimKind::ReturnAndRefund;
        assert_eq!(
            S::Open.transition(A::Approve, r, W::Cooperative).unwrap(),
            S::Approved
        );
        assert_eq!(
            S::Open.transition(A::Approve, rr, W::Cooperative).unwrap(),
            S::AwaitingReturn
        );
        assert_eq!(
            S::AwaitingReturn
                .transition(A::ReceiveReturn, rr, W::Cooperative)
                .unwrap(),
            S::Approved
        );
        assert_eq!(
            S::Rejected.transition(A::Escalate, r, W::Buyer).unwrap(),
            S::Escalated
        );
        assert_eq!(
            S::Escalated.transition(A::Approve, r, W::Admin).unwrap(),
            S::Approved
        );
        for (from, action, who) in [
            (S::Approved, A::Approve, W::Cooperative),
            (S::Rejected, A::Approve, W::Cooperative),
            (S::Escalated, A::Approve, W::Cooperative),
            (S::Open, A::Escalate, W::Buyer),
            (S::Open, A::Approve, W::Buyer),
            (S::Open, A::ReceiveReturn, W::Cooperative),
        ] {
            assert!(
                from.transition(action, r, who).is_err(),
                "{from} {action:?} {who:?}"
            );
        }
    }

    #[test]
    fn units_are_worth_their_share_of_the_final_total() {
        assert_eq!(units_worth(24700, 4, 1), 6175);
        // 237.12 over 4: 59.28 each
        assert_eq!(units_worth(23712, 4, 3), 17784);
        // 10.00 over 3: 3.333… → 3.33, two of them 6.666… → 6.67
        assert_eq!(units_worth(1000, 3, 1), 333);
        assert_eq!(units_worth(1000, 3, 2), 667);
    }
}
