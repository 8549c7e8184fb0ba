//! The tables both backends share, kept by hand: ids are TEXT UUIDs, money is BIGINT fen,
//! timestamps are UTC `Timestamp`s bound from the app. `tests/api/schema_check.rs` compares
//! this file with the migrated database, so the two backends cannot drift.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        phone -> Nullable<Text>,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cooperatives (id) {
        id -> Text,
        name -> Text,
        province -> Text,
        city -> Text,
        county -> Text,
        description -> Nullable<Text>,
        contact_phone -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cooperative_members (cooperative_id, user_id) {
        cooperative_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        business_license_no -> Text,
        city -> Text,
        contact_phone -> Text,
        status -> Text,
        payment_terms -> Nullable<Text>,
        credit_limit -> Nullable<BigInt>,
        rejection_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organization_members (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    warehouses (id) {
        id -> Text,
        cooperative_id -> Text,
        name -> Text,
        address -> Text,
        cold_storage -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    categories (id) {
        id -> Text,
        name -> Text,
        parent_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        cooperative_id -> Text,
        category_id -> Nullable<Text>,
        name -> Text,
        subtitle -> Nullable<Text>,
        description -> Nullable<Text>,
        origin -> Text,
        storage -> Text,
        shelf_life_days -> Nullable<Integer>,
        certifications -> Text,
        images -> Text,
        status -> Text,
        version -> BigInt,
        sort_price -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    skus (id) {
        id -> Text,
        product_id -> Text,
        cooperative_id -> Text,
        code -> Text,
        name -> Text,
        unit -> Text,
        net_weight_grams -> BigInt,
        price -> BigInt,
        sales_channel -> Text,
        min_order_quantity -> Nullable<BigInt>,
        low_stock_threshold -> BigInt,
        position -> Integer,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sku_tiers (sku_id, min_quantity) {
        sku_id -> Text,
        min_quantity -> BigInt,
        unit_price -> BigInt,
    }
}

diesel::table! {
    stock (sku_id, warehouse_id) {
        sku_id -> Text,
        warehouse_id -> Text,
        cooperative_id -> Text,
        on_hand -> BigInt,
        reserved -> BigInt,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Text,
        sku_id -> Text,
        warehouse_id -> Text,
        delta -> BigInt,
        kind -> Text,
        reason -> Nullable<Text>,
        order_id -> Nullable<Text>,
        actor_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (user_id, idem_key) {
        user_id -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(cooperative_members -> cooperatives (cooperative_id));
diesel::joinable!(cooperative_members -> users (user_id));
diesel::joinable!(organization_members -> organizations (organization_id));
diesel::joinable!(organization_members -> users (user_id));
diesel::joinable!(warehouses -> cooperatives (cooperative_id));
diesel::joinable!(products -> cooperatives (cooperative_id));
diesel::joinable!(products -> categories (category_id));
diesel::joinable!(skus -> products (product_id));
diesel::joinable!(sku_tiers -> skus (sku_id));
diesel::joinable!(stock -> skus (sku_id));
diesel::joinable!(stock -> warehouses (warehouse_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    cooperatives,
    cooperative_members,
    organizations,
    organization_members,
    counters,
    warehouses,
    categories,
    products,
    skus,
    sku_tiers,
    stock,
    stock_movements,
    idempotency_keys,
);
