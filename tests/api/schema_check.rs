//! `src/db/schema.rs` against the migrated database: same tables, columns, types and
//! nullability, so the SQLite and PostgreSQL trees cannot drift from the code (or each other,
//! since the suite runs on both).

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use shanhe::db::DbConn;

use crate::helpers::*;

type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn from_schema_rs() -> Columns {
    let src = include_str!("../../src/db/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in src.lines().map(str::trim) {
        if let Some(cur) = &current {
            if line == "}" {
                current = None;
                continue;
            }
            if let Some((name, ty)) = line.trim_end_matches(',').split_once(" -> ") {
                let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                    Some(inner) => (inner.trim_end_matches('>').to_owned(), true),
                    None => (ty.to_owned(), false),
                };
                tables
                    .get_mut(cur)
                    .unwrap()
                    .insert(name.to_owned(), (ty, nullable));
            }
        } else if line.ends_with(") {") && !line.starts_with("diesel") {
            let name = line.split_whitespace().next().unwrap().to_owned();
            tables.insert(name.clone(), BTreeMap::new());
            current = Some(name);
        }
    }
    tables
}

fn normalise(db_type: &str) -> String {
    match db_type.to_lowercase().as_str() {
        "text" => "Text",
        "bigint" => "BigInt",
        "integer" => "Integer",
        "boolean" => "Bool",
        "double precision" | "double" => "Double",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        other => return format!("unmapped:{other}"),
    }
    .to_owned()
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    col_type: String,
    #[diesel(sql_type = BigInt)]
    notnull: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

/// The catalogue's text index (`product_search*`: an FTS5 table and its shadow tables on
/// SQLite, a text array on PostgreSQL) is reached only through `catalogue::search_index`'s
/// own SQL, not through schema.rs, so it is left out here.
fn from_database(conn: &mut DbConn) -> Columns {
    let mut tables = Columns::new();
    match conn {
        DbConn::Pg(c) => {
            let rows: Vec<PgColumn> = diesel::sql_query(
                "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                 data_type::text AS data_type, is_nullable::text AS is_nullable \
                 FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name <> '__diesel_schema_migrations' \
                 AND table_name NOT LIKE 'product\\_search%'",
            )
            .load(c)
            .unwrap();
            for r in rows {
                tables.entry(r.table_name).or_default().insert(
                    r.column_name,
                    (normalise(&r.data_type), r.is_nullable == "YES"),
                );
            }
        }
        DbConn::Sqlite(c) => {
            let rows: Vec<SqliteColumn> = diesel::sql_query(
                "SELECT m.name AS table_name, p.name AS name, p.type AS col_type, \
                 p.\"notnull\" AS \"notnull\", p.pk AS pk \
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name <> '__diesel_schema_migrations' \
                 AND m.name NOT LIKE 'product\\_search%' ESCAPE '\\'",
            )
            .load(c)
            .unwrap();
            for r in rows {
                // SQLite lets a lone PRIMARY KEY column be NULL unless declared NOT NULL;
                // every id here is declared NOT NULL, so notnull is the truth
                let _ = r.pk;
                tables
                    .entry(r.table_name)
                    .or_default()
                    .insert(r.name, (normalise(&r.col_type), r.notnull == 0));
            }
        }
    }
    tables
}

#[actix_web::test]
async fn schema_rs_matches_the_migrated_database() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let expected = from_schema_rs();
    assert!(expected.len() >= 10, "parsed schema.rs: {expected:?}");
    let actual = from_database(&mut conn);
    assert_eq!(actual, expected);
}
