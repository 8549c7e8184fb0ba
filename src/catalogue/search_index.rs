//! The catalogue's text index: each product's name, subtitle and description cut into their
//! distinct one- and two-character pieces (lowercased, letters and digits only), kept in the
//! database's own inverted index — an FTS5 table on SQLite, a GIN index over a text array on
//! PostgreSQL (see the `catalogue_search` migration for why pieces and not trigrams).
//!
//! A query names the pieces any match must contain (its pairs, or the one character of a
//! one-character word); the index answers with candidates, a superset of the matches, which
//! the page's LIKE then confirms. So the index only ever narrows, and results are the same
//! whichever way a page is found.
//!
//! Beside each product's entry sit the keys its pages sort by (name, price, creation time),
//! copies written with the pieces: a rare query's page statement sorts its candidates by them
//! and reads only the first few products, not every candidate.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use diesel::BoxableExpression;

use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::ProductId;

diesel::table! {
    /// One row per product: its sort keys (copies of the product's), and on PostgreSQL its
    /// pieces (`grams`, GIN-indexed); on SQLite the pieces live in the FTS5 table
    /// `product_search`, whose rowid is this table's `key`. Only `search_index` writes it.
    product_search_keys (product_id) {
        product_id -> Text,
        name -> Text,
        sort_price -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// One row (`id` 1): how many times the index has been written. See `version`.
    product_search_version (id) {
        id -> Integer,
        n -> BigInt,
    }
}

/// The index's write count: it changes whenever any entry (pieces or sort keys) does, in the
/// same transaction, so what was read from the index while it read `n` is still what the
/// index holds as long as it reads `n`.
pub fn version(conn: &mut DbConn) -> Result<i64, ApiError> {
    // by key, not `first`: SQLite compiles a statement with a bound `LIMIT` afresh on every
    // execution (see db::prepared::Limit)
    Ok(product_search_version::table
        .find(1)
        .select(product_search_version::n)
        .get_result(conn)?)
}

/// What a product's index entry is made of: its texts and the keys its pages sort by.
pub struct Entry<'a> {
    pub product: ProductId,
    pub name: &'a str,
    pub subtitle: Option<&'a str>,
    pub description: Option<&'a str>,
    pub sort_price: i64,
    pub created_at: NaiveDateTime,
}

/// At most this many pieces of a query go to the index (the LIKE checks the rest).
const QUERY_PIECES: usize = 8;

/// Runs of letters and digits, lowercased.
fn words(text: &str) -> impl Iterator<Item = Vec<char>> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(char::to_lowercase)
                .filter(|c| c.is_alphanumeric())
                .collect::<Vec<_>>()
        })
}

/// Every distinct piece a product's texts hold: each character and each adjacent pair.
pub fn pieces_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in texts {
        for w in words(text) {
            for (i, c) in w.iter().enumerate() {
                out.insert(c.to_string());
                if let Some(next) = w.get(i + 1) {
                    out.insert([*c, *next].iter().collect());
                }
            }
        }
    }
    out
}

/// The pieces every product matching `query` contains: the pairs of each word, or the
/// character of a one-character word. Empty when the query has no letters or digits (then
/// the index cannot help and the page is found by scanning in order).
pub fn pieces_needed(query: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for w in words(query) {
        if w.len() == 1 {
            out.insert(w[0].to_string());
        }
        for pair in w.windows(2) {
            out.insert(pair.iter().collect::<String>());
        }
    }
    out.into_iter().take(QUERY_PIECES).collect()
}

/// Writes (or rewrites) one product's pieces and sort keys; called wherever a product is
/// written, so the copies never differ from the product.
pub fn write(conn: &mut DbConn, e: &Entry) -> Result<(), ApiError> {
    let pieces = pieces_of([
        e.name,
        e.subtitle.unwrap_or(""),
        e.description.unwrap_or(""),
    ]);
    let id = e.product.to_string();
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(
                "INSERT INTO product_search_keys (product_id, grams, name, sort_price, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (product_id) DO UPDATE SET \
                 grams = excluded.grams, name = excluded.name, \
                 sort_price = excluded.sort_price, created_at = excluded.created_at",
            )
            .bind::<Text, _>(&id)
            .bind::<Array<Text>, _>(pieces.into_iter().collect::<Vec<_>>())
            .bind::<Text, _>(e.name)
            .bind::<BigInt, _>(e.sort_price)
            .bind::<Timestamp, _>(e.created_at)
            .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::sql_query(
                "INSERT INTO product_search_keys (product_id, name, sort_price, created_at) \
                 VALUES (?, ?, ?, ?) ON CONFLICT (product_id) DO UPDATE SET \
                 name = excluded.name, sort_price = excluded.sort_price, \
                 created_at = excluded.created_at",
            )
            .bind::<Text, _>(&id)
            .bind::<Text, _>(e.name)
            .bind::<BigInt, _>(e.sort_price)
            .bind::<Timestamp, _>(e.created_at)
            .execute(c)?;
            diesel::sql_query(
                "DELETE FROM product_search WHERE rowid = \
                 (SELECT key FROM product_search_keys WHERE product_id = ?)",
            )
            .bind::<Text, _>(&id)
            .execute(c)?;
            diesel::sql_query(
                "INSERT INTO product_search (rowid, grams) \
                 SELECT key, ? FROM product_search_keys WHERE product_id = ?",
            )
            .bind::<Text, _>(pieces.into_iter().collect::<Vec<_>>().join(" "))
            .bind::<Text, _>(&id)
            .execute(c)?;
        }
    }
    // last, so that a reader who sees the new count also sees the entry
    diesel::update(product_search_version::table)
        .set(product_search_version::n.eq(product_search_version::n + 1))
        .execute(conn)?;
    Ok(())
}

/// A query rare enough to take its products from the index: the pieces they all hold.
#[derive(Debug, Clone)]
pub struct Rare(Vec<String>);

impl Rare {
    /// The pieces every candidate holds.
    pub fn pieces(&self) -> &[String] {
        &self.0
    }

    /// "The product holds every piece", as a condition on `products`.
    pub fn products_hold_all<QS>(
        &self,
        sqlite: bool,
    ) -> Box<dyn BoxableExpression<QS, crate::db::MultiBackend, SqlType = diesel::sql_types::Bool>>
    {
        let (sql, pieces) = if sqlite {
            (
                "products.id IN (SELECT product_id FROM product_search_keys \
                 WHERE key IN (SELECT rowid FROM product_search WHERE product_search MATCH ",
                fts_match(&self.0),
            )
        } else {
            (
                "products.id IN (SELECT product_id FROM product_search_keys \
                 WHERE grams @> string_to_array(",
                self.0.join(" "),
            )
        };
        let close = if sqlite { "))" } else { ", ' '))" };
        Box::new(
            diesel::dsl::sql::<diesel::sql_types::Bool>(sql)
                .bind::<Text, _>(pieces)
                .sql(close),
        )
    }

    /// "The entry holds every piece", as a condition on `product_search_keys`: the index
    /// hands the statement its few holders (FTS5 on SQLite, the GIN index on PostgreSQL,
    /// where its planner sees the same rarity and uses that index).
    pub fn holds_all(
        &self,
        sqlite: bool,
    ) -> Box<
        dyn BoxableExpression<
            product_search_keys::table,
            crate::db::MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
    > {
        if sqlite {
            Box::new(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "product_search_keys.key IN (SELECT rowid FROM product_search \
                     WHERE product_search MATCH ",
                )
                .bind::<Text, _>(fts_match(&self.0))
                .sql(")"),
            )
        } else {
            Box::new(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "product_search_keys.grams @> string_to_array(",
                )
                .bind::<Text, _>(self.0.join(" "))
                .sql(", ' ')"),
            )
        }
    }
}

/// An FTS5 query requiring every piece, each a quoted phrase (pieces hold only letters and
/// digits, so no quote can reach it).
fn fts_match(pieces: &[String]) -> String {
    pieces
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

#[derive(QueryableByName)]
struct Holders {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How long a query's rarity is trusted, and how many queries' are remembered.
const RARITY_TTL: std::time::Duration = std::time::Duration::from_secs(60);
const RARITY_KEPT: usize = 4096;

type RarityKey = (Vec<String>, usize);

/// Recent answers to "is this query rare?", per instance. The answer only picks the way to a
/// page, and both ways find the same page, so an answer out of date costs time, never a
/// wrong result; remembering it saves a statement on every search page.
static RARITY: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<RarityKey, (bool, std::time::Instant)>>,
> = std::sync::LazyLock::new(Default::default);

/// Whether a query is rare: held by at most `cap` products. `None` when it is common (walking
/// the catalogue in page order then finds a page of matches after a few rows) or when there
/// is nothing to look up. SQLite counts in FTS5 (cheap: doclists are read in order and the
/// count stops at `cap + 1`); PostgreSQL asks its planner's estimate, from the statistics
/// ANALYZE keeps on the pieces, since counting through GIN visits a heap row per holder.
/// The answer is remembered for a minute.
pub fn candidates(
    conn: &mut DbConn,
    pieces: &[String],
    cap: usize,
) -> Result<Option<Rare>, ApiError> {
    if pieces.is_empty() || cap == 0 {
        return Ok(None);
    }
    let key = (pieces.to_vec(), cap);
    let remembered = RARITY
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|(_, at)| at.elapsed() < RARITY_TTL)
        .map(|(rare, _)| *rare);
    let rare = match remembered {
        Some(rare) => rare,
        None => {
            let rare = is_rare(conn, pieces, cap)?;
            let mut known = RARITY.lock().unwrap_or_else(|p| p.into_inner());
            if known.len() >= RARITY_KEPT {
                known.retain(|_, (_, at)| at.elapsed() < RARITY_TTL);
                if known.len() >= RARITY_KEPT {
                    known.clear();
                }
            }
            known.insert(key, (rare, std::time::Instant::now()));
            rare
        }
    };
    Ok(rare.then(|| Rare(pieces.to_vec())))
}

/// Asks the index whether at most `cap` products hold every piece.
fn is_rare(conn: &mut DbConn, pieces: &[String], cap: usize) -> Result<bool, ApiError> {
    match conn {
        DbConn::Pg(c) => {
            // The planner's estimates, from the statistics ANALYZE keeps on the pieces: for
            // all pieces at once (it multiplies their frequencies as if independent, which the
            // pairs of one word are not: 椴树 and 树蜜 come together), and for the rarest piece
            // alone (an upper bound). Their geometric mean decides; either way the page is
            // exact, the estimate only picks the cheaper way to it. Pieces hold only letters
            // and digits, so no quote can reach the literals.
            let holds = |ps: &[String]| {
                let list = ps
                    .iter()
                    .map(|p| format!("'{}'", p.replace('\'', "")))
                    .collect::<Vec<_>>()
                    .join(",");
                format!("SELECT 1 FROM product_search_keys WHERE grams @> ARRAY[{list}]")
            };
            let mut parts: Vec<String> = pieces
                .iter()
                .map(|p| holds(std::slice::from_ref(p)))
                .collect();
            parts.push(holds(pieces));
            let plan: Vec<Plan> = diesel::sql_query(format!(
                "EXPLAIN (FORMAT JSON) {}",
                parts.join(" UNION ALL ")
            ))
            .load(c)?;
            let plan = plan
                .first()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(&p.plan).ok())
                .map(|v| v[0]["Plan"].clone())
                .unwrap_or_default();
            let estimates: Vec<f64> = plan["Plans"]
                .as_array()
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|p| p["Plan Rows"].as_f64())
                        .collect()
                })
                .unwrap_or_default();
            let rows = match estimates.split_last() {
                Some((all, each)) if each.len() == pieces.len() => {
                    (all * each.iter().copied().fold(f64::MAX, f64::min)).sqrt()
                }
                _ => f64::MAX,
            };
            Ok(rows <= cap as f64)
        }
        DbConn::Sqlite(c) => {
            let fetch = i64::try_from(cap).unwrap_or(i64::MAX - 1) + 1;
            let holders = diesel::sql_query(
                "SELECT count(*) AS n FROM (SELECT 1 FROM product_search \
                 WHERE product_search MATCH ? LIMIT ?)",
            )
            .bind::<Text, _>(fts_match(pieces))
            .bind::<BigInt, _>(fetch)
            .get_result::<Holders>(c)?;
            Ok(usize::try_from(holders.n).is_ok_and(|n| n <= cap))
        }
    }
}

/// After many products were written at once: merges SQLite's index segments into one
/// (each write transaction left its own, and a search reads them all), and on PostgreSQL
/// moves the GIN index's pending entries into the index proper and refreshes the planner's
/// statistics. Must run outside a transaction.
pub fn tidy(conn: &mut DbConn) -> Result<(), ApiError> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query("VACUUM product_search_keys").execute(c)?;
            diesel::sql_query("ANALYZE").execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::sql_query("INSERT INTO product_search (product_search) VALUES ('optimize')")
                .execute(c)?;
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Unindexed {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    subtitle: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = BigInt)]
    sort_price: i64,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
}

/// Indexes the products written before the index existed (run at start-up after the
/// migrations; a no-op once every product has its pieces). Returns how many it indexed.
pub fn backfill(conn: &mut DbConn) -> Result<usize, ApiError> {
    let mut total = 0;
    loop {
        let batch: Vec<Unindexed> = diesel::sql_query(
            "SELECT id, name, subtitle, description, sort_price, created_at FROM products \
             WHERE NOT EXISTS (SELECT 1 FROM product_search_keys \
             WHERE product_search_keys.product_id = products.id) LIMIT 500",
        )
        .load(conn)?;
        if batch.is_empty() {
            if total > 0 {
                tidy(conn)?;
            }
            return Ok(total);
        }
        crate::db::write_tx(conn, |conn| {
            for p in &batch {
                let id: ProductId =
                    p.id.parse()
                        .map_err(|_| ApiError::Internal(format!("product id {:?}", p.id)))?;
                write(
                    conn,
                    &Entry {
                        product: id,
                        name: &p.name,
                        subtitle: p.subtitle.as_deref(),
                        description: p.description.as_deref(),
                        sort_price: p.sort_price,
                        created_at: p.created_at,
                    },
                )?;
            }
            Ok::<_, ApiError>(())
        })?;
        total += batch.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_characters_and_pairs_of_each_word() {
        let p = pieces_of(["有机大米 5KG", "冻梨"]);
        for want in ["有", "有机", "大米", "米", "5k", "kg", "冻梨", "梨"] {
            assert!(p.contains(want), "{want} in {p:?}");
        }
        // no pair across a space or across texts
        assert!(!p.contains("米5"));
        assert!(!p.contains("g冻"));
    }

    #[test]
    fn a_query_needs_its_pairs_or_its_one_character() {
        assert_eq!(pieces_needed("米"), vec!["米"]);
        assert_eq!(pieces_needed("大米"), vec!["大米"]);
        assert_eq!(pieces_needed("黑土冻梨"), vec!["冻梨", "土冻", "黑土"]);
        assert_eq!(pieces_needed("%_"), Vec::<String>::new());
        assert_eq!(pieces_needed("A 米"), vec!["a", "米"]);
        // whatever a product matches by substring, it holds every needed piece
        let held = pieces_of(["黑土地冻梨，甜"]);
        for q in ["黑土地", "地冻梨", "冻", "梨，甜"] {
            assert!(pieces_needed(q).iter().all(|n| held.contains(n)), "{q}");
        }
    }
}
