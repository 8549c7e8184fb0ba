//! What the OpenAPI document says about every operation beyond its own `#[utoipa::path]`:
//! the answers the shared plumbing gives (bad JSON, a missing token, an oversized body, a busy
//! pool), path parameters, and the text rules the extractors enforce on every string. Applied
//! once to the whole document, so a new operation cannot forget them.

use std::collections::BTreeSet;

use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    ArrayItems, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Content, KnownFormat, OpenApi, RefOr, Required, ResponseBuilder};
use utoipa::Modify;

/// Every string in a request may hold any character but the C0 controls other than tab,
/// newline and carriage return, and DEL (what `validate::is_forbidden_control` refuses).
pub const ANY_TEXT: &str = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$";
/// An amount in yuan as a string: digits with at most two decimals, at most 100,000,000.00.
pub const AMOUNT: &str = "^(100000000(\\.00?)?|[0-9]{1,8}(\\.[0-9]{1,2})?)$";

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters (spaces inside allowed).
pub const IDEMPOTENCY_KEY: &str = "^[!-~]([ -~]{0,253}[!-~])?$";

pub const PROBLEM_JSON: &str = "application/problem+json";

pub struct Truthful;

impl Modify for Truthful {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut requested = BTreeSet::new();
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                declare_path_parameters(path, op);
                constrain_parameters(op, &mut requested);
                document_errors(path, op);
            }
        }
        // the text rule holds for what clients send: schemas reachable from a request body
        if let Some(components) = openapi.components.as_mut() {
            let mut pending: Vec<String> = requested.iter().cloned().collect();
            while let Some(name) = pending.pop() {
                if let Some(schema) = components.schemas.get(&name) {
                    let mut found = BTreeSet::new();
                    refs_in(schema, &mut found);
                    for f in found {
                        if requested.insert(f.clone()) {
                            pending.push(f);
                        }
                    }
                }
            }
            for name in &requested {
                if let Some(schema) = components.schemas.get_mut(name) {
                    constrain_strings(schema);
                    amounts_in(schema);
                }
            }
            components
                .schemas
                .insert("Amount".to_owned(), amount_schema());
        }
    }
}

/// The component names a schema refers to.
fn refs_in(schema: &RefOr<Schema>, found: &mut BTreeSet<String>) {
    match schema {
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                found.insert(name.to_owned());
            }
        }
        RefOr::T(Schema::Object(o)) => o.properties.values().for_each(|p| refs_in(p, found)),
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &a.items {
                refs_in(items, found);
            }
        }
        RefOr::T(Schema::OneOf(x)) => x.items.iter().for_each(|p| refs_in(p, found)),
        RefOr::T(Schema::AllOf(x)) => x.items.iter().for_each(|p| refs_in(p, found)),
        RefOr::T(Schema::AnyOf(x)) => x.items.iter().for_each(|p| refs_in(p, found)),
        RefOr::T(_) => {}
    }
}

/// A query parameter taking one of `words`, or blank for "any".
pub fn word_or_blank<'a>(words: impl IntoIterator<Item = &'a str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(std::iter::once("").chain(words)))
        .build()
}

/// A query amount, like a body's (see [`AMOUNT`]).
pub fn amount_param() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(AMOUNT))
        .max_length(Some(24))
        .build()
}

/// A UUID, or blank for "any".
pub fn uuid_or_blank() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})?$",
        ))
        .build()
}

/// What a client may send as money: [`AMOUNT`], where answers may also be negative or larger
/// (report totals).
fn amount_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(AMOUNT))
        .max_length(Some(24))
        .description(Some(
            "CNY in yuan, at most two decimals, at most 100000000.00 (e.g. \"12.50\")",
        ))
        .into()
}

/// Points every `Money` a request holds at `Amount`.
fn amounts_in(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::Ref(r) if r.ref_location == "#/components/schemas/Money" => {
            r.ref_location = "#/components/schemas/Amount".to_owned();
        }
        RefOr::T(Schema::Object(o)) => o.properties.values_mut().for_each(amounts_in),
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                amounts_in(items);
            }
        }
        RefOr::T(Schema::OneOf(x)) => x.items.iter_mut().for_each(amounts_in),
        RefOr::T(Schema::AllOf(x)) => x.items.iter_mut().for_each(amounts_in),
        RefOr::T(Schema::AnyOf(x)) => x.items.iter_mut().for_each(amounts_in),
        _ => {}
    }
}

/// `{id}` in a path without a declared parameter becomes a required UUID path parameter.
fn declare_path_parameters(path: &str, op: &mut Operation) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    for name in path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
    {
        let declared = params
            .iter()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if !declared {
            params.push(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                    ))
                    .build(),
            );
        }
    }
}

fn constrain_parameters(op: &mut Operation, requested: &mut BTreeSet<String>) {
    for p in op.parameters.iter_mut().flatten() {
        constrain_parameter(p);
    }
    if let Some(body) = op.request_body.as_mut() {
        for content in body.content.values_mut() {
            if let Some(schema) = content.schema.as_mut() {
                refs_in(schema, requested);
                constrain_strings(schema);
                amounts_in(schema);
            }
        }
    }
}

fn constrain_parameter(p: &mut Parameter) {
    if let Some(schema) = p.schema.as_mut() {
        constrain_strings(schema);
        // a query, header or path value is text or absent, never JSON null
        if let RefOr::T(Schema::Object(o)) = schema {
            if let SchemaType::Array(types) = &o.schema_type {
                let rest: Vec<Type> = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .cloned()
                    .collect();
                if let [one] = rest.as_slice() {
                    o.schema_type = SchemaType::Type(one.clone());
                }
            }
        }
    }
    if p.name == "Idempotency-Key" && p.parameter_in == ParameterIn::Header {
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
            o.pattern = Some(IDEMPOTENCY_KEY.to_owned());
            o.description = Some("1 to 255 visible ASCII characters".to_owned());
        }
    }
    if p.name == "limit" && p.parameter_in == ParameterIn::Query {
        if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
            o.minimum = Some(1.into());
        }
    }
}

/// Gives every plain string the rule the extractors enforce, and descends into objects,
/// arrays and compositions. A string that already has a format, an enum or a pattern keeps it.
fn constrain_strings(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => constrain_object(o),
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                constrain_strings(items);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(constrain_strings),
        Schema::AllOf(all) => all.items.iter_mut().for_each(constrain_strings),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(constrain_strings),
        _ => {}
    }
}

fn is_string(t: &SchemaType) -> bool {
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn constrain_object(o: &mut Object) {
    if is_string(&o.schema_type)
        && o.format.is_none()
        && o.enum_values.is_none()
        && o.pattern.is_none()
    {
        o.pattern = Some(ANY_TEXT.to_owned());
    }
    for property in o.properties.values_mut() {
        constrain_strings(property);
    }
}

fn problem() -> Content {
    Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
        "Problem",
    ))))
}

/// The error answers every operation can give, as `application/problem+json`; answers the
/// operation documents itself keep their description.
fn document_errors(path: &str, op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let has_path_params = path.contains('{');
    let rate_limited = path.starts_with("/api/v1/auth/");
    let responses = &mut op.responses.responses;
    let mut add = |status: &str, description: &str| {
        let response = responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
        if let RefOr::T(r) = response {
            r.content.clear();
            r.content.insert(PROBLEM_JSON.to_owned(), problem());
        }
    };
    add("400", "Malformed request (unreadable JSON or query)");
    add(
        "422",
        "Validation failed; `errors` names each field (also for control characters in the query)",
    );
    add("503", "The service is busy or its database is unavailable");
    if has_body {
        add("413", "Request body too large");
    }
    if secured {
        add("401", "Missing, invalid or expired access token");
        add("403", "The caller may not do this");
    }
    if has_path_params {
        add("404", "No such resource (or not visible to the caller)");
    }
    if rate_limited {
        add(
            "429",
            "Too many attempts; `Retry-After` says when to try again",
        );
    }
    // error answers the operation documents itself get the same problem+json body
    for (status, response) in responses.iter_mut() {
        if let (true, RefOr::T(r)) = (status.as_str() >= "400", response) {
            r.content.clear();
            r.content.insert(PROBLEM_JSON.to_owned(), problem());
        }
    }
}
