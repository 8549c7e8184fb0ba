//! The catalogue's text index: each product's name, subtitle and description cut into their
//! distinct one- and two-character pieces (lowercased, letters and digits only), kept in the
//! database's own inverted index — an FTS5 table on SQLite, a GIN index over a text array on
//! PostgreSQL (see the `catalogue_search` migration for why pieces and not trigrams).
//!
//! A query names the pieces any match must contain (its pairs, or the one character of a
//! one-character word); the index answers with candidates, a superset of the matches, which
//! the page's LIKE then confirms. So the index only ever narrows, and results are the same
//! whichever way a page is found.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use crate::db::DbConn;
use crate::http::error::ApiError;
use crate::ids::ProductId;

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

/// Writes (or rewrites) one product's pieces.
pub fn write(
    conn: &mut DbConn,
    product: ProductId,
    name: &str,
    subtitle: Option<&str>,
    description: Option<&str>,
) -> Result<(), ApiError> {
    let pieces = pieces_of([name, subtitle.unwrap_or(""), description.unwrap_or("")]);
    let id = product.to_string();
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query(
                "INSERT INTO product_search (product_id, grams) VALUES ($1, $2) \
                 ON CONFLICT (product_id) DO UPDATE SET grams = excluded.grams",
            )
            .bind::<Text, _>(&id)
            .bind::<Array<Text>, _>(pieces.into_iter().collect::<Vec<_>>())
            .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::sql_query(
                "INSERT INTO product_search_keys (product_id) VALUES (?) \
                 ON CONFLICT (product_id) DO NOTHING",
            )
            .bind::<Text, _>(&id)
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
    Ok(())
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    product_id: String,
}

/// Products holding every piece in `pieces`, if there are at most `cap` of them; `None` when
/// there are more (the query is common: walking the catalogue in page order finds a page of
/// matches quickly) or when there is nothing to look up.
pub fn candidates(
    conn: &mut DbConn,
    pieces: &[String],
    cap: usize,
) -> Result<Option<Vec<ProductId>>, ApiError> {
    if pieces.is_empty() || cap == 0 {
        return Ok(None);
    }
    let fetch = i64::try_from(cap).unwrap_or(i64::MAX - 1) + 1;
    let found: Vec<Found> = match conn {
        DbConn::Pg(c) => {
            diesel::sql_query("SELECT product_id FROM product_search WHERE grams @> $1 LIMIT $2")
                .bind::<Array<Text>, _>(pieces)
                .bind::<BigInt, _>(fetch)
                .load(c)?
        }
        DbConn::Sqlite(c) => {
            // each piece a quoted phrase (pieces hold only letters and digits), all required
            let matching = pieces
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            diesel::sql_query(
                "SELECT k.product_id AS product_id FROM product_search s \
                 JOIN product_search_keys k ON k.key = s.rowid \
                 WHERE product_search MATCH ? LIMIT ?",
            )
            .bind::<Text, _>(matching)
            .bind::<BigInt, _>(fetch)
            .load(c)?
        }
    };
    if found.len() > cap {
        return Ok(None);
    }
    Ok(Some(
        found
            .iter()
            .filter_map(|f| f.product_id.parse().ok())
            .collect(),
    ))
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
}

/// Indexes the products written before the index existed (run at start-up after the
/// migrations; a no-op once every product has its pieces). Returns how many it indexed.
pub fn backfill(conn: &mut DbConn) -> Result<usize, ApiError> {
    let missing_sql = match conn {
        DbConn::Pg(_) => "product_search WHERE product_search.product_id = products.id",
        DbConn::Sqlite(_) => {
            "product_search_keys WHERE product_search_keys.product_id = products.id"
        }
    };
    let mut total = 0;
    loop {
        let batch: Vec<Unindexed> = diesel::sql_query(format!(
            "SELECT id, name, subtitle, description FROM products \
             WHERE NOT EXISTS (SELECT 1 FROM {missing_sql}) LIMIT 500"
        ))
        .load(conn)?;
        if batch.is_empty() {
            return Ok(total);
        }
        crate::db::write_tx(conn, |conn| {
            for p in &batch {
                let id: ProductId =
                    p.id.parse()
                        .map_err(|_| ApiError::Internal(format!("product id {:?}", p.id)))?;
                write(
                    conn,
                    id,
                    &p.name,
                    p.subtitle.as_deref(),
                    p.description.as_deref(),
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
