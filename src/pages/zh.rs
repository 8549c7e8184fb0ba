//! Chinese words for the domain's states and the few problems a shopper's form can meet.
//! The domain's own messages are English (the API's); a page shows the Chinese one where
//! this knows it and the domain's words otherwise.

use crate::catalogue::Storage;
use crate::fulfilment::domain::ShipmentStatus;
use crate::http::error::{ApiError, FieldError};
use crate::orders::{FulfilmentStatus, OrderStatus, PaymentStatus};

pub fn order_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::PendingPayment => "待支付",
        OrderStatus::Confirmed => "待发货",
        OrderStatus::PartiallyShipped => "部分发货",
        OrderStatus::Shipped => "已发货",
        OrderStatus::Delivered => "已送达",
        OrderStatus::Completed => "已完成",
        OrderStatus::Cancelled => "已取消",
    }
}

pub fn payment_status(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Unpaid => "未支付",
        PaymentStatus::Paid => "已支付",
        PaymentStatus::OnTerms => "账期支付",
        PaymentStatus::Refunded => "已退款",
    }
}

pub fn fulfilment_status(s: FulfilmentStatus) -> &'static str {
    match s {
        FulfilmentStatus::AwaitingPayment => "待支付",
        FulfilmentStatus::AwaitingShipment => "待发货",
        FulfilmentStatus::PartiallyShipped => "部分发货",
        FulfilmentStatus::Shipped => "已发货",
        FulfilmentStatus::Delivered => "已送达",
        FulfilmentStatus::Cancelled => "已取消",
    }
}

pub fn shipment_status(s: ShipmentStatus) -> &'static str {
    match s {
        ShipmentStatus::InTransit => "运输中",
        ShipmentStatus::OutForDelivery => "派送中",
        ShipmentStatus::Delivered => "已签收",
        ShipmentStatus::Exception => "异常",
    }
}

pub fn storage(s: Storage) -> &'static str {
    match s {
        Storage::Ambient => "常温",
        Storage::Chilled => "冷藏",
        Storage::Frozen => "冷冻",
    }
}

/// A field's problem in Chinese, for the message shown beside the field.
pub fn message(e: &FieldError) -> String {
    let m = e.message.as_str();
    let known: [(&str, &str); 10] = [
        (
            "This SKU already has a lot with this code",
            "这个规格已有同号批次，请换一个批次号",
        ),
        ("is not an email address", "邮箱格式不正确"),
        ("must not be empty", "不能为空"),
        ("must not start with a space", "不能以空格开头"),
        ("must not be the email address", "密码不能与邮箱相同"),
        (
            "must be a mainland mobile number",
            "请填写 11 位手机号，例如 13800138000",
        ),
        ("is not a phone number", "电话号码格式不正确"),
        ("must be between 1 and", "数量需在 1 到 100000 之间"),
        ("is required", "必填"),
        (crate::http::validate::CONTROL_MESSAGE, "不能包含控制字符"),
    ];
    if let Some((_, zh)) = known.iter().find(|(en, _)| m.starts_with(en)) {
        return (*zh).to_owned();
    }
    // "must be at least 10 characters", "must be at most 50 characters"
    let count = |prefix: &str| {
        m.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(" characters"))
            .and_then(|n| n.parse::<u32>().ok())
    };
    if let Some(n) = count("must be at least ") {
        return format!("至少 {n} 个字符");
    }
    if let Some(n) = count("must be at most ") {
        return format!("最多 {n} 个字符");
    }
    m.to_owned()
}

/// A whole problem as one sentence (for a banner above a form).
pub fn problem(e: &ApiError) -> String {
    match e {
        ApiError::Validation(fields) => fields.iter().map(message).collect::<Vec<_>>().join("；"),
        ApiError::InsufficientStock { .. } => "库存不足，请减少数量或稍后再试。".into(),
        ApiError::Conflict(m) | ApiError::InvalidState(m) => format!("无法完成：{m}"),
        ApiError::ConflictWith { detail, .. } => format!("无法完成：{detail}"),
        ApiError::IdempotencyConflict => "这个表单已提交过，请刷新页面。".into(),
        ApiError::Malformed(_) => "提交的内容无法识别。".into(),
        _ => "无法完成，请稍后再试。".into(),
    }
}
