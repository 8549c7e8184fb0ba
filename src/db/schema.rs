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
        commission_rate -> Nullable<Text>,
        departures -> Nullable<Text>,
    }
}

diesel::table! {
    departure_bookings (cooperative_id, departs_on, cutoff) {
        cooperative_id -> Text,
        departs_on -> Text,
        cutoff -> Text,
        capacity_grams -> BigInt,
        booked_grams -> BigInt,
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
        credit_used -> BigInt,
        min_remaining_shelf_life_days -> Integer,
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
        lot_tracked -> Bool,
        pricing -> Text,
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
        lot_id -> Nullable<Text>,
    }
}

diesel::table! {
    lots (id) {
        id -> Text,
        cooperative_id -> Text,
        sku_id -> Text,
        warehouse_id -> Text,
        code -> Text,
        harvested_on -> Nullable<Text>,
        packed_on -> Text,
        best_before -> Text,
        origin -> Nullable<Text>,
        certificate_no -> Nullable<Text>,
        received_quantity -> BigInt,
        on_hand -> BigInt,
        reserved -> BigInt,
        status -> Text,
        hold_reason -> Nullable<Text>,
        trace_code -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    lot_allocations (order_item_id, lot_id) {
        order_item_id -> Text,
        lot_id -> Text,
        order_id -> Text,
        quantity -> BigInt,
        shipped_quantity -> BigInt,
        released_quantity -> BigInt,
    }
}

diesel::table! {
    shipment_lots (shipment_id, order_item_id, lot_id) {
        shipment_id -> Text,
        order_item_id -> Text,
        lot_id -> Text,
        quantity -> BigInt,
    }
}

diesel::table! {
    claims (id) {
        id -> Text,
        order_id -> Text,
        cooperative_id -> Text,
        opened_by -> Nullable<Text>,
        kind -> Text,
        reason -> Text,
        origin -> Text,
        status -> Text,
        requested_amount -> BigInt,
        approved_amount -> Nullable<BigInt>,
        evidence -> Text,
        readings -> Text,
        note -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        shipment_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    claim_items (claim_id, order_item_id) {
        claim_id -> Text,
        order_item_id -> Text,
        quantity -> BigInt,
        amount -> BigInt,
    }
}

diesel::table! {
    login_failures (key) {
        key -> Text,
        failures -> BigInt,
        window_start -> Timestamp,
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

diesel::table! {
    cart_items (user_id, sku_id) {
        user_id -> Text,
        sku_id -> Text,
        quantity -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shipping_rates (province, storage) {
        province -> Text,
        storage -> Text,
        first_kg_fee -> BigInt,
        additional_kg_fee -> BigInt,
        free_over -> Nullable<BigInt>,
        transit_days -> Integer,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        number -> Text,
        buyer_id -> Text,
        organization_id -> Nullable<Text>,
        status -> Text,
        payment_status -> Text,
        subtotal -> BigInt,
        shipping_fee -> BigInt,
        total -> BigInt,
        shipping_address -> Text,
        buyer_note -> Nullable<Text>,
        purchase_order_number -> Nullable<Text>,
        cancel_reason -> Nullable<Text>,
        payment_due_at -> Nullable<Timestamp>,
        paid_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        refunded_total -> BigInt,
    }
}

diesel::table! {
    fulfilments (id) {
        id -> Text,
        order_id -> Text,
        cooperative_id -> Text,
        warehouse_id -> Text,
        status -> Text,
        storage -> Text,
        shipping_fee -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        weight_grams -> BigInt,
        ship_by -> Nullable<Text>,
        estimated_delivery -> Nullable<Text>,
        departure_cutoff -> Nullable<Text>,
    }
}

diesel::table! {
    order_items (id) {
        id -> Text,
        order_id -> Text,
        fulfilment_id -> Text,
        sku_id -> Text,
        sku_code -> Text,
        product_name -> Text,
        sku_name -> Text,
        cooperative_id -> Text,
        warehouse_id -> Text,
        quantity -> BigInt,
        unit_price -> BigInt,
        line_total -> BigInt,
        net_weight_grams -> BigInt,
        shipped_quantity -> BigInt,
        position -> Integer,
        pricing -> Text,
        kg_price -> Nullable<BigInt>,
        final_total -> BigInt,
        claimed_quantity -> BigInt,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        order_id -> Text,
        provider -> Text,
        amount -> BigInt,
        status -> Text,
        provider_reference -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refunds (id) {
        id -> Text,
        order_id -> Text,
        payment_id -> Nullable<Text>,
        amount -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
        kind -> Text,
        cooperative_id -> Nullable<Text>,
        claim_id -> Nullable<Text>,
    }
}

diesel::table! {
    shipments (id) {
        id -> Text,
        fulfilment_id -> Text,
        order_id -> Text,
        cooperative_id -> Text,
        carrier -> Text,
        tracking_number -> Text,
        cold_chain -> Bool,
        storage -> Text,
        status -> Text,
        excursions -> Integer,
        delivered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shipment_items (shipment_id, order_item_id) {
        shipment_id -> Text,
        order_item_id -> Text,
        quantity -> BigInt,
        actual_weight_grams -> Nullable<BigInt>,
    }
}

diesel::table! {
    shipment_events (id) {
        id -> Text,
        shipment_id -> Text,
        status -> Text,
        occurred_at -> Timestamp,
        location -> Nullable<Text>,
        note -> Nullable<Text>,
        temperature_celsius -> Nullable<Double>,
        excursion -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        details -> Text,
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
diesel::joinable!(cart_items -> skus (sku_id));
diesel::joinable!(fulfilments -> orders (order_id));
diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(order_items -> fulfilments (fulfilment_id));
diesel::joinable!(order_items -> skus (sku_id));
diesel::joinable!(payments -> orders (order_id));
diesel::joinable!(refunds -> orders (order_id));
diesel::joinable!(shipments -> fulfilments (fulfilment_id));
diesel::joinable!(shipment_items -> shipments (shipment_id));
diesel::joinable!(shipment_events -> shipments (shipment_id));
diesel::joinable!(lots -> skus (sku_id));
diesel::joinable!(claim_items -> claims (claim_id));
diesel::joinable!(claims -> orders (order_id));
diesel::joinable!(lots -> warehouses (warehouse_id));
diesel::joinable!(lot_allocations -> lots (lot_id));
diesel::joinable!(lot_allocations -> orders (order_id));
diesel::joinable!(shipment_lots -> lots (lot_id));
diesel::joinable!(shipment_lots -> shipments (shipment_id));

diesel::allow_tables_to_appear_in_same_query!(
    departure_bookings,
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
    login_failures,
    cart_items,
    shipping_rates,
    orders,
    fulfilments,
    order_items,
    payments,
    refunds,
    shipments,
    shipment_items,
    shipment_events,
    audit_events,
    lots,
    lot_allocations,
    shipment_lots,
    claims,
    claim_items,
);
