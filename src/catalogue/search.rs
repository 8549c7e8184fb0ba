//! The public product listing: filters, sorts and keyset pagination in one SQL statement
//! (plus one for the category tree when filtering by category).

use chrono::NaiveDateTime;
use diesel::dsl::not;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::IntoParams;

use super::categories;
use super::repo::ProductRow;
use super::search_index::{self, product_search_keys};
use crate::db::prepared::load_limited;
use crate::db::schema::{cooperatives, products};
use crate::db::{DbConn, MultiBackend};
use crate::http::error::ApiError;
use crate::http::openapi;
use crate::http::pagination::{Page, Paginated, TIME_FORMAT};
use crate::http::validate::Fields;
use crate::ids::{CategoryId, CooperativeId};
use crate::money::Money;

use super::domain::{ProductStatus, Storage};
use crate::cooperatives::domain::CooperativeStatus;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

type TextTest<QS = ProductsWithCoops> =
    Box<dyn BoxableExpression<QS, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// `column` contains the lowercased `%…%` pattern, ignoring case as both databases can:
/// `lower(column) LIKE pattern` on PostgreSQL; on SQLite plain `LIKE`, which already ignores
/// ASCII case (and SQLite's `lower` folds nothing more), without `lower`'s copy of every
/// description it passes (six times faster on a Chinese catalogue). PostgreSQL, too, tests the
/// column as it is when the pattern has no letter that has case (Chinese, digits): a column
/// contains such a pattern exactly when its lowercase does, and `lower` of every description
/// a rare query passes was a sixth of that page's statement.
macro_rules! contains {
    ($sqlite:expr, $column:expr, $pattern:expr) => {{
        let pattern: String = $pattern.to_owned();
        let test: TextTest<_> = if $sqlite || !has_case(&pattern) {
            Box::new($column.like(pattern).escape('\\'))
        } else {
            Box::new(lower($column).like(pattern).escape('\\'))
        };
        test
    }};
}

/// Whether some character of `text` changes under upper- or lowercasing.
fn has_case(text: &str) -> bool {
    text.chars().any(|c| {
        !c.to_lowercase().eq(std::iter::once(c)) || !c.to_uppercase().eq(std::iter::once(c))
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Text to find in names, subtitles and descriptions (Chinese works: `q=大米`).
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(schema_with = openapi::uuid_or_blank)]
    pub category_id: Option<String>,
    #[param(schema_with = openapi::uuid_or_blank)]
    pub cooperative_id: Option<String>,
    /// `ambient`, `chilled` or `frozen` (blank: any)
    #[param(schema_with = storage_param)]
    pub storage: Option<String>,
    /// Lowest retail price, e.g. `10.00`
    #[param(schema_with = openapi::amount_param)]
    pub min_price: Option<String>,
    #[param(schema_with = openapi::amount_param)]
    pub max_price: Option<String>,
    pub in_stock: Option<bool>,
    /// `relevance` (default with `q`), `price_asc`, `price_desc`, `newest` (default)
    #[param(schema_with = sort_param)]
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn storage_param() -> utoipa::openapi::Object {
    openapi::word_or_blank(Storage::ALL.iter().map(|s| s.as_str()))
}

fn sort_param() -> utoipa::openapi::Object {
    openapi::word_or_blank(["relevance", "price_asc", "price_desc", "newest"])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

/// A checked search.
#[derive(Debug, Clone)]
pub struct Search {
    pub pattern: Option<String>,
    /// what the text index must hold for a product to match `pattern`
    pub pieces: Vec<String>,
    pub category_id: Option<CategoryId>,
    pub cooperative_id: Option<CooperativeId>,
    pub storage: Option<Storage>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    pub in_stock: bool,
    pub sort: Sort,
    pub page: Page,
}

/// `%` and `_` in user text match themselves, not anything.
fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl TryFrom<SearchParams> for Search {
    type Error = ApiError;
    fn try_from(p: SearchParams) -> Result<Self, ApiError> {
        let mut f = Fields::default();
        if p.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
            f.push("q", "must be at most 100 characters");
        }
        let q = p.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let category_id = f.check(
            "category_id",
            parse_id::<CategoryId>(p.category_id.as_deref()),
        );
        let cooperative_id = f.check(
            "cooperative_id",
            parse_id::<CooperativeId>(p.cooperative_id.as_deref()),
        );
        let storage = f.check(
            "storage",
            p.storage
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| Storage::parse(s).ok_or("must be ambient, chilled or frozen"))
                .transpose(),
        );
        let min_price = f.check(
            "min_price",
            p.min_price.as_deref().map(str::parse::<Money>).transpose(),
        );
        let max_price = f.check(
            "max_price",
            p.max_price.as_deref().map(str::parse::<Money>).transpose(),
        );
        let sort = f.check(
            "sort",
            match p.sort.as_deref().filter(|s| !s.is_empty()) {
                None if q.is_some() => Ok(Sort::Relevance),
                None => Ok(Sort::Newest),
                Some("relevance") => Ok(Sort::Relevance),
                Some("price_asc") => Ok(Sort::PriceAsc),
                Some("price_desc") => Ok(Sort::PriceDesc),
                Some("newest") => Ok(Sort::Newest),
                Some(_) => Err("must be relevance, price_asc, price_desc or newest"),
            },
        );
        let page = f.check(
            "cursor",
            Page::parse(p.limit, p.cursor.as_deref()).map_err(|e| match e {
                ApiError::Validation(v) => v.first().map(|e| e.message.clone()).unwrap_or_default(),
                other => other.to_string(),
            }),
        );
        let value = (|| {
            Some(Search {
                pattern: q.map(like_pattern),
                pieces: q.map(search_index::pieces_needed).unwrap_or_default(),
                category_id: category_id?,
                cooperative_id: cooperative_id?,
                storage: storage?,
                min_price: min_price?,
                max_price: max_price?,
                in_stock: p.in_stock.unwrap_or(false),
                sort: sort?,
                page: page?,
            })
        })();
        f.finish(value)
    }
}

fn parse_id<T: std::str::FromStr>(raw: Option<&str>) -> Result<Option<T>, &'static str> {
    raw.filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| "is not a valid id"))
        .transpose()
}

fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "is not a valid cursor for this sort")
}

fn parse_time(s: &str) -> Result<NaiveDateTime, ApiError> {
    NaiveDateTime::parse_from_str(s, TIME_FORMAT).map_err(|_| bad_cursor())
}

/// Where a page starts: the sort keys of the previous page's last product, from its cursor.
#[derive(Debug, Clone)]
enum After {
    Newest(NaiveDateTime, String),
    Price(i64, String),
    /// 0: the name matches, 1: only another text does
    Relevance(u8, NaiveDateTime, String),
}

impl After {
    fn parse(sort: Sort, cursor: Option<Vec<String>>) -> Result<Option<After>, ApiError> {
        let Some(parts) = cursor else {
            return Ok(None);
        };
        Ok(Some(match sort {
            Sort::Newest => {
                let [t, id] = <[String; 2]>::try_from(parts).map_err(|_| bad_cursor())?;
                After::Newest(parse_time(&t)?, id)
            }
            Sort::PriceAsc | Sort::PriceDesc => {
                let [p, id] = <[String; 2]>::try_from(parts).map_err(|_| bad_cursor())?;
                After::Price(p.parse().map_err(|_| bad_cursor())?, id)
            }
            Sort::Relevance => {
                let [rank, t, id] = <[String; 3]>::try_from(parts).map_err(|_| bad_cursor())?;
                let rank = match rank.as_str() {
                    "0" => 0,
                    "1" => 1,
                    _ => return Err(bad_cursor()),
                };
                After::Relevance(rank, parse_time(&t)?, id)
            }
        }))
    }
}

/// "Comes after (`t`, `id`) newest first", on a table with `created_at` and the id column.
macro_rules! newer_than {
    ($t:ident, $id:ident, $time:expr, $last:expr) => {
        $t::created_at
            .lt($time)
            .or($t::created_at.eq($time).and($t::$id.lt($last)))
    };
}

/// A boxed query over a table with the page's sort keys (`products`, or the text index's
/// copies of them), ordered as the page is and started after the cursor: one rule for both,
/// so a rare query's candidates are taken in exactly the order its page shows them.
macro_rules! in_page_order {
    ($q:expr, $t:ident, $id:ident, $sqlite:expr, $pattern:expr, $sort:expr, $after:expr) => {{
        let mut q = $q;
        match $sort {
            Sort::Newest => {
                if let Some(After::Newest(t, last)) = $after {
                    q = q.filter(newer_than!($t, $id, *t, last.clone()));
                }
                q.order(($t::created_at.desc(), $t::$id.desc()))
            }
            Sort::PriceAsc => {
                if let Some(After::Price(p, last)) = $after {
                    q = q.filter(
                        $t::sort_price
                            .gt(*p)
                            .or($t::sort_price.eq(*p).and($t::$id.gt(last.clone()))),
                    );
                }
                q.order(($t::sort_price.asc(), $t::$id.asc()))
            }
            Sort::PriceDesc => {
                if let Some(After::Price(p, last)) = $after {
                    q = q.filter(
                        $t::sort_price
                            .lt(*p)
                            .or($t::sort_price.eq(*p).and($t::$id.lt(last.clone()))),
                    );
                }
                q.order(($t::sort_price.desc(), $t::$id.desc()))
            }
            Sort::Relevance => {
                // names that match rank before matches only in the subtitle or description
                let name_hit = || contains!($sqlite, $t::name, $pattern);
                if let Some(After::Relevance(rank, t, last)) = $after {
                    let later = newer_than!($t, $id, *t, last.clone());
                    q = match rank {
                        0 => q.filter(name_hit().and(later).or(not(name_hit()))),
                        _ => q.filter(not(name_hit()).and(later)),
                    };
                }
                q.order((name_hit().desc(), $t::created_at.desc(), $t::$id.desc()))
            }
        }
    }};
}

/// Whether the product of the surrounding query has something to sell now: inventory's
/// correlated condition, handed in by the edge when a search asks for `in_stock` (inventory
/// owns the stock), so the filter stays inside the one statement.
pub type InStock =
    Box<dyn BoxableExpression<ProductsWithCoops, MultiBackend, SqlType = diesel::sql_types::Bool>>;

/// A condition on the products of a page.
type ProductsMatching = TextTest;

pub type ProductsWithCoops =
    diesel::dsl::InnerJoinQuerySource<products::table, cooperatives::table>;

/// Candidates from the text index when a query is rarer than this: a page then sorts at most
/// this many index entries. Commoner queries walk the catalogue in page order instead and stop
/// after a page, which takes few rows precisely because matches are common.
pub const CANDIDATES: usize = 500;

/// A rare query's candidate as its pages sort it: its id and copies of its sort keys, with
/// whether its name holds the query (relevance ranks those first), as the database tests it.
#[derive(Debug, Clone, Default)]
struct Candidate {
    id: String,
    name_hit: bool,
    sort_price: i64,
    created_at: NaiveDateTime,
}

impl Candidate {
    /// Where a cursor stands, as a candidate: a page holds what sorts after it.
    fn at(after: &After) -> Candidate {
        match after.clone() {
            After::Newest(created_at, id) => Candidate {
                id,
                created_at,
                ..Default::default()
            },
            After::Price(sort_price, id) => Candidate {
                id,
                sort_price,
                ..Default::default()
            },
            After::Relevance(rank, created_at, id) => Candidate {
                id,
                name_hit: rank == 0,
                created_at,
                ..Default::default()
            },
        }
    }

    /// `in_page_order!`'s order, in memory: what comes first on a page is `Less`. Ids are
    /// compared as bytes, as SQLite does; PostgreSQL's collation orders them the same way,
    /// since every id is lowercase hex with its hyphens in the same places.
    fn page_cmp(sort: Sort, a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
        match sort {
            Sort::Newest => (b.created_at, &b.id).cmp(&(a.created_at, &a.id)),
            Sort::PriceAsc => (a.sort_price, &a.id).cmp(&(b.sort_price, &b.id)),
            Sort::PriceDesc => (b.sort_price, &b.id).cmp(&(a.sort_price, &a.id)),
            Sort::Relevance => {
                (b.name_hit, b.created_at, &b.id).cmp(&(a.name_hit, a.created_at, &a.id))
            }
        }
    }
}

type Remembered = std::sync::Arc<Vec<Candidate>>;

/// How searches treat rare queries, per instance: how rare a query must be to be found
/// through the text index (`search_candidates` of the config; 0 never), and the candidates
/// of recent rare queries, each kept with the index's write count it was read under
/// (`search_index::version`) and used only while the count is the same.
pub struct RareQueries {
    cap: usize,
    memory: std::sync::Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    /// (pattern, pieces) → (write count, candidates)
    entries: std::collections::HashMap<(String, Vec<String>), (i64, Remembered)>,
    /// candidates held in all entries
    held: usize,
}

/// At most this many candidates are remembered in all (about 100 bytes each).
const REMEMBERED: usize = 50_000;

impl RareQueries {
    pub fn new(cap: usize) -> RareQueries {
        RareQueries {
            cap,
            memory: Default::default(),
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every candidate of a rare query, from memory when the index has not been written since
    /// they were read; `None` when there are more than a rare query should have (the rarity
    /// is an estimate on PostgreSQL): the page then takes them from the index itself.
    fn candidates(
        &self,
        conn: &mut DbConn,
        rare: &search_index::Rare,
        pattern: &str,
    ) -> Result<Option<Remembered>, ApiError> {
        let version = search_index::version(conn)?;
        let key = (pattern.to_owned(), rare.pieces().to_vec());
        if let Some((v, found)) = self.memory().entries.get(&key) {
            if *v == version {
                return Ok(Some(found.clone()));
            }
        }
        let sqlite = matches!(conn, DbConn::Sqlite(_));
        let most = self.cap.saturating_mul(4).max(1);
        let rows: Vec<(String, bool, i64, NaiveDateTime)> = load_limited(
            conn,
            product_search_keys::table
                .filter(rare.holds_all(sqlite))
                .select((
                    product_search_keys::product_id,
                    contains!(sqlite, product_search_keys::name, pattern),
                    product_search_keys::sort_price,
                    product_search_keys::created_at,
                ))
                .into_boxed(),
            i64::try_from(most + 1).unwrap_or(i64::MAX),
            true,
        )?;
        if rows.len() > most {
            return Ok(None);
        }
        let found: Remembered = std::sync::Arc::new(
            rows.into_iter()
                .map(|(id, name_hit, sort_price, created_at)| Candidate {
                    id,
                    name_hit,
                    sort_price,
                    created_at,
                })
                .collect(),
        );
        let mut memory = self.memory();
        if memory.held + found.len() > REMEMBERED {
            *memory = Memory::default();
        }
        memory.held += found.len();
        if let Some((_, old)) = memory.entries.insert(key, (version, found.clone())) {
            memory.held -= old.len();
        }
        Ok(Some(found))
    }
}

/// A rare query with too many candidates to remember first reads this many pages' worth of
/// them (in page order), enough when most match; when fewer than a page of those match
/// (filters, or the last page), it reads them all.
const PEEK: i64 = 2;

/// Published products of active co-ops matching `s`, one page of them, with co-op names.
/// `in_stock` narrows to products with something to sell. Statements: the category tree
/// (when filtering by category), the text index's count (with `q`, when its rarity is not
/// remembered), then the page: one statement in page order for a common query (two when
/// sorted by relevance: names first, then the rest); for a rare one the index's write count
/// (its candidates and their keys are read only when this instance does not remember them
/// under that count), then the page read from the first few candidates, and one more when
/// those few do not fill the page.
pub fn search(
    conn: &mut DbConn,
    s: &Search,
    in_stock: Option<fn() -> InStock>,
    rare_queries: &RareQueries,
) -> Result<Paginated<(ProductRow, String)>, ApiError> {
    let category_ids = match s.category_id {
        Some(c) => Some(categories::with_descendants(conn, c)?),
        None => None,
    };
    let candidates = match &s.pattern {
        Some(_) => search_index::candidates(conn, &s.pieces, rare_queries.cap)?,
        None => None,
    };
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    let after = After::parse(s.sort, s.page.after.clone())?;
    // `text`: whether to test the query's text here (the relevance walk tests names and the
    // other texts apart: a name test repeated inside the OR made PostgreSQL count its
    // selectivity twice, expect a handful of rows and sort the whole catalogue for them)
    let filtered = |text: bool| {
        let mut q = products::table
            .inner_join(cooperatives::table)
            .filter(cooperatives::status.eq(CooperativeStatus::Active))
            .select((ProductRow::as_select(), cooperatives::name))
            .into_boxed();
        q = if candidates.is_some() && sqlite {
            // a rare query's few products are fetched by primary key; SQLite, seeing them,
            // would rather walk the status index and test every product against them, unless
            // `status || ''` keeps the status out of its index choice
            q.filter(products::status.concat("").eq(ProductStatus::Published))
        } else {
            q.filter(products::status.eq(ProductStatus::Published))
        };
        if let Some(ids) = &category_ids {
            q = q.filter(products::category_id.eq_any(ids.clone()));
        }
        if let Some(c) = s.cooperative_id {
            q = q.filter(products::cooperative_id.eq(c));
        }
        if let Some(st) = s.storage {
            q = q.filter(products::storage.eq(st));
        }
        // SQLite has no statistics on price ranges, and PostgreSQL's sessions plan without
        // the values (generic plans, see db::SessionSettings): both would take a range as a
        // reason to walk the price index and sort every product in it (22 pages/s for 30-60
        // yuan on PostgreSQL); unless the page is sorted by price, `sort_price + 0` keeps
        // them walking the page's own order
        let by_price = matches!(s.sort, Sort::PriceAsc | Sort::PriceDesc);
        if let Some(m) = s.min_price {
            q = if !by_price {
                q.filter((products::sort_price + 0).ge(m.fen()))
            } else {
                q.filter(products::sort_price.ge(m.fen()))
            };
        }
        if let Some(m) = s.max_price {
            q = if !by_price {
                q.filter((products::sort_price + 0).le(m.fen()))
            } else {
                q.filter(products::sort_price.le(m.fen()))
            };
        }
        if let Some(in_stock) = in_stock {
            q = q.filter(in_stock());
        }
        match &s.pattern {
            Some(pat) if text => {
                q.filter(contains!(sqlite, products::name, pat).or(other_text_hit(sqlite, pat)))
            }
            _ => q,
        }
    };
    let pattern = s.pattern.clone().unwrap_or_else(|| "%".into());
    // a page statement's text varies with which filters are set, the sort and the cursor (a
    // few hundred shapes at most) and with the category list's length: kept prepared unless
    // the list is long (PostgreSQL planned the in-stock page afresh on every call, 0.8 ms
    // against 0.5 ms to run it, since its stock condition is SQL text diesel will not keep)
    let keep = category_ids
        .as_ref()
        .is_none_or(|ids| ids.len() <= crate::db::prepared::FEW);
    let rows = match (&candidates, s.sort) {
        (Some(rare), _) => {
            // A rare query: its candidates' sort keys sit beside the index, so the page takes
            // the first few candidates in page order, by those keys alone, and reads only
            // those products. Usually the candidates come from this instance's memory (while
            // the index is unchanged): a page then reads neither the index nor the keys, and
            // reads its products in runs (`remembered_page`); `q=有机大米` on 50,000
            // products went from about 1,000 to 2,250-2,700 pages/s on SQLite. Otherwise
            // (too many to remember) the keys come from a statement of their own, since
            // diesel cannot nest a boxed query for both databases inside another: the first
            // `PEEK` pages' worth hold the page whenever at least a page of them match (a match
            // further on sorts after all of them); when fewer do, the page reads every
            // candidate.
            match rare_queries.candidates(conn, rare, &pattern)? {
                Some(all) => remembered_page(conn, s, &after, &all, sqlite, |conn, ids| {
                    Ok(crate::db::prepared::load_kept_if(
                        conn,
                        filtered(true).filter(products::id.eq_any(ids)),
                        true,
                    )?)
                })?,
                None => {
                    let peek = PEEK * s.page.fetch_limit();
                    let keys = in_page_order!(
                        product_search_keys::table
                            .filter(rare.holds_all(sqlite))
                            .select(product_search_keys::product_id)
                            .into_boxed(),
                        product_search_keys,
                        product_id,
                        sqlite,
                        &pattern,
                        s.sort,
                        &after
                    );
                    // the index's condition is SQL of its own, which diesel will not keep
                    // prepared; the statement's text varies only with the sort and the
                    // cursor, so keep it (PostgreSQL planned a rare query's statement afresh
                    // on every page: 0.7 of 2.9 ms for `q=有机大米`, pgbench -M simple
                    // against -M prepared)
                    let mut ids: Vec<String> = load_limited(conn, keys, peek, true)?;
                    let page = |rows: ProductsMatching| {
                        in_page_order!(
                            filtered(true).filter(rows),
                            products,
                            id,
                            sqlite,
                            &pattern,
                            s.sort,
                            &after
                        )
                    };
                    let taken = ids.len() as i64;
                    // the list padded to its full length with its last id, so its statement
                    // has one text to keep (SQLite writes a placeholder per id; PostgreSQL
                    // binds one array)
                    if let Some(last) = ids.last().cloned() {
                        ids.resize(usize::try_from(peek).unwrap_or(0), last);
                    }
                    let rows = match ids.is_empty() {
                        true => Vec::new(),
                        false => load_limited(
                            conn,
                            page(Box::new(products::id.eq_any(ids))),
                            s.page.fetch_limit(),
                            true,
                        )?,
                    };
                    if rows.len() as i64 == s.page.fetch_limit() || taken < peek {
                        rows
                    } else {
                        load_limited(
                            conn,
                            page(rare.products_hold_all(sqlite)),
                            s.page.fetch_limit(),
                            true,
                        )?
                    }
                }
            }
        }
        (None, Sort::Relevance) => {
            // a common query: name matches newest first, then (if the page is not full)
            // the other matches, each walked in index order and stopped after a page
            let name_hit = || contains!(sqlite, products::name, &pattern);
            let (rank, later) = match &after {
                Some(After::Relevance(rank, t, id)) => {
                    (*rank, Some(newer_than!(products, id, *t, id.clone())))
                }
                _ => (0, None),
            };
            let mut rows = Vec::new();
            if rank == 0 {
                let mut q = filtered(false).filter(name_hit());
                if let Some(later) = later.clone() {
                    q = q.filter(later);
                }
                rows = load_limited(
                    conn,
                    q.order((products::created_at.desc(), products::id.desc())),
                    s.page.fetch_limit(),
                    keep,
                )?;
            }
            let wanted = s.page.fetch_limit() - rows.len() as i64;
            if wanted > 0 {
                let mut q = filtered(false)
                    .filter(not(name_hit()))
                    .filter(other_text_hit(sqlite, &pattern));
                if let (1, Some(later)) = (rank, later) {
                    q = q.filter(later);
                }
                rows.extend(load_limited::<_, (ProductRow, String)>(
                    conn,
                    q.order((products::created_at.desc(), products::id.desc())),
                    wanted,
                    keep,
                )?);
            }
            rows
        }
        (None, sort) => load_limited(
            conn,
            in_page_order!(filtered(true), products, id, sqlite, &pattern, sort, &after),
            s.page.fetch_limit(),
            keep,
        )?,
    };
    let sort = s.sort;
    let pattern = s.pattern.clone();
    Ok(s.page
        .finish(rows, move |(p, _): &(ProductRow, String)| match sort {
            Sort::Newest => vec![
                p.created_at.format(TIME_FORMAT).to_string(),
                p.id.to_string(),
            ],
            Sort::PriceAsc | Sort::PriceDesc => vec![p.sort_price.to_string(), p.id.to_string()],
            Sort::Relevance => {
                let hit = pattern
                    .as_deref()
                    .map(|pat| name_matches(&p.name, pat))
                    .unwrap_or(true);
                vec![
                    if hit { "0" } else { "1" }.to_owned(),
                    p.created_at.format(TIME_FORMAT).to_string(),
                    p.id.to_string(),
                ]
            }
        }))
}

/// A rare query's page from its remembered candidates: sorted here in page order after the
/// cursor, then read in growing runs (a page's worth, then twice that, …) until a page of
/// them passes the filters or none are left. Each run is one statement (`read`) that reads
/// only those products with every filter, in no order: the run's own order places them.
/// Without filters that is one statement reading a page of products.
fn remembered_page(
    conn: &mut DbConn,
    s: &Search,
    after: &Option<After>,
    all: &[Candidate],
    sqlite: bool,
    read: impl Fn(&mut DbConn, Vec<String>) -> Result<Vec<(ProductRow, String)>, ApiError>,
) -> Result<Vec<(ProductRow, String)>, ApiError> {
    let cursor = after.as_ref().map(Candidate::at);
    let mut next: Vec<&Candidate> = all
        .iter()
        .filter(|c| {
            cursor
                .as_ref()
                .is_none_or(|at| Candidate::page_cmp(s.sort, at, c) == std::cmp::Ordering::Less)
        })
        .collect();
    next.sort_unstable_by(|a, b| Candidate::page_cmp(s.sort, a, b));
    let want = usize::try_from(s.page.fetch_limit()).unwrap_or(1).max(1);
    let mut rows = Vec::new();
    let mut rest = next.as_slice();
    let mut run = want;
    while rows.len() < want && !rest.is_empty() {
        let (these, later) = rest.split_at(run.min(rest.len()));
        rest = later;
        let mut ids: Vec<String> = these.iter().map(|c| c.id.clone()).collect();
        if sqlite {
            // SQLite writes a placeholder per id: padded with the last id to a power of two,
            // a few statement texts to keep (PostgreSQL binds one array whatever its length)
            let last = ids.last().cloned().unwrap_or_default();
            ids.resize(ids.len().next_power_of_two().max(8), last);
        }
        let place: std::collections::HashMap<&str, usize> = these
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let mut found = read(conn, ids)?;
        found.sort_by_cached_key(|(p, _)| place.get(p.id.to_string().as_str()).copied());
        rows.extend(found);
        run = run.saturating_mul(2);
    }
    rows.truncate(want);
    Ok(rows)
}

/// The subtitle or the description contains the `%…%` pattern.
fn other_text_hit(sqlite: bool, pattern: &str) -> TextTest {
    let pattern = pattern.to_owned();
    Box::new(
        contains!(sqlite, products::subtitle.assume_not_null(), pattern).or(contains!(
            sqlite,
            products::description.assume_not_null(),
            pattern
        )),
    )
}

/// Whether a name matches a `%…%` pattern the way the SQL above does (for the cursor).
fn name_matches(name: &str, pattern: &str) -> bool {
    let inner = pattern.trim_start_matches('%').trim_end_matches('%');
    let mut needle = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        if escaped || c != '\\' {
            needle.push(c);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    name.to_lowercase().contains(&needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_wildcards() {
        assert_eq!(like_pattern("大米"), "%大米%");
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert!(name_matches("有机大米 5kg", &like_pattern("大米")));
        assert!(name_matches("50%_OFF rice", &like_pattern("50%_off")));
        assert!(!name_matches("菊花", &like_pattern("大米")));
    }

    #[test]
    fn only_cased_letters_need_lowercasing() {
        assert!(!has_case("%黑土地冻梨%"));
        assert!(!has_case("%5\\_10%"));
        assert!(has_case("%rice%"));
        assert!(has_case("%é%"));
        assert!(has_case("%ǆ%"));
    }
}
