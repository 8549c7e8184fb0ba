//! Past one database server: catalogue reads on replicas (falling back to the primary), lost
//! connections answered 503 and replaced, and write transactions retried on deadlocks and
//! serialization failures. The streaming-replication and failover run itself is
//! `scripts/replication-check.sh`; here a replica is the primary's own database reached by a
//! second pool (a server not in recovery counts as current), or an address nothing listens on.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;
use shanhe::db::{self, DbUrl};

use crate::helpers::*;

/// The sum of a metric's series whose line contains every one of `parts`.
async fn metric(app: &TestApp, name: &str, parts: &[&str]) -> f64 {
    let r = app.get("/metrics", None).await;
    let text = r.body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .filter(|l| l.starts_with(name) && parts.iter().all(|p| l.contains(p)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `/health/ready`'s replicas once the watcher has checked them all.
async fn checked_replicas(app: &TestApp) -> Vec<Value> {
    for _ in 0..100 {
        let ready = app.get("/health/ready", None).await.expect(200);
        let replicas = ready["replicas"].as_array().cloned().unwrap_or_default();
        let checked = |r: &Value| {
            r["usable"] == true
                || r["problem"]
                    .as_str()
                    .is_some_and(|p| p != "not checked yet")
        };
        if replicas.iter().all(checked) {
            return replicas;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replicas were never checked");
}

#[actix_web::test]
async fn catalogue_reads_use_a_usable_replica_and_fall_back_from_a_dead_one() {
    let app = spawn_app_with(|c| {
        let dead = DbUrl::parse("postgres://postgres@127.0.0.1:1/nowhere").ok();
        c.replica_urls = match &c.database_url {
            DbUrl::Postgres(u) => vec![Some(DbUrl::Postgres(u.clone())), dead],
            // on SQLite the setting is ignored (with a warning)
            DbUrl::Sqlite(_) => vec![dead],
        };
    })
    .await;
    let shop = app.shop("Replica Co-op", "RP").await;
    let product = shop.product["id"].as_str().unwrap().to_owned();
    if !app.is_postgres() {
        // SQLite has no replicas: the setting is ignored, reads work as ever
        let ready = app.get("/health/ready", None).await.expect(200);
        assert_eq!(ready["replicas"], serde_json::json!([]));
        app.get("/api/v1/products", None).await.expect(200);
        return;
    }
    let replicas = checked_replicas(&app).await;
    assert_eq!(replicas.len(), 2, "{replicas:?}");
    let live = replicas
        .iter()
        .find(|r| r["usable"] == true)
        .expect("the live replica is used");
    assert_eq!(live["lag_seconds"], 0.0, "{live}");
    let dead = replicas
        .iter()
        .find(|r| r["usable"] == false)
        .expect("the dead one is skipped");
    assert_eq!(
        dead["name"], "127.0.0.1:1/nowhere",
        "no credentials shown: {dead}"
    );
    assert!(
        dead["problem"].as_str().unwrap().contains("connection"),
        "{dead}"
    );

    let on_replica = metric(&app, "db_reads_total", &["pool=\"replica\""]).await;
    for path in [
        "/api/v1/products".to_owned(),
        "/api/v1/products?q=%E5%A4%A7%E7%B1%B3".to_owned(),
        format!("/api/v1/products/{product}"),
        "/api/v1/categories".to_owned(),
        "/api/v1/shipping-rates".to_owned(),
        format!("/products/{product}"),
        "/".to_owned(),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    let product_body = app
        .get(&format!("/api/v1/products/{product}"), None)
        .await
        .expect(200);
    assert_eq!(product_body["id"], product.as_str());
    let now_on_replica = metric(&app, "db_reads_total", &["pool=\"replica\""]).await;
    assert!(
        now_on_replica >= on_replica + 8.0,
        "catalogue reads went to the replica: {on_replica} → {now_on_replica}"
    );
    // what a caller has just written is read on the primary: the cart, the order
    let buyer = app.register("replica-buyer@example.com").await;
    let primary_before = metric(&app, "db_statements_total", &["pool=\"primary\""]).await;
    app.get("/api/v1/cart", Some(&buyer.token))
        .await
        .expect(200);
    let primary_after = metric(&app, "db_statements_total", &["pool=\"primary\""]).await;
    assert!(primary_after > primary_before);
}

#[actix_web::test]
async fn with_every_replica_down_reads_go_to_the_primary() {
    let app = spawn_app_with(|c| {
        if matches!(c.database_url, DbUrl::Postgres(_)) {
            c.replica_urls = vec![DbUrl::parse("postgres://postgres@127.0.0.1:1/nowhere").ok()];
        }
    })
    .await;
    if !app.is_postgres() {
        return;
    }
    let shop = app.shop("Fallback Co-op", "FB").await;
    let replicas = checked_replicas(&app).await;
    assert_eq!(replicas[0]["usable"], false, "{replicas:?}");
    let on_primary = metric(&app, "db_reads_total", &["pool=\"primary\""]).await;
    for _ in 0..5 {
        let page = app.get("/api/v1/products", None).await.expect(200);
        assert!(page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == shop.product["id"]));
    }
    assert!(metric(&app, "db_reads_total", &["pool=\"primary\""]).await >= on_primary + 5.0);
}

#[actix_web::test]
async fn connections_the_server_lost_answer_503_and_are_replaced() {
    let app = spawn_app().await;
    if !app.is_postgres() {
        return;
    }
    let buyer = app.register("lost-conn@example.com").await;
    // warm every pooled connection, then end them all from the server's side, as a failover
    // or a restarted primary does
    for _ in 0..12 {
        app.get("/api/v1/products", None).await.expect(200);
        app.get("/api/v1/cart", Some(&buyer.token))
            .await
            .expect(200);
    }
    {
        let mut conn = app.conn();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .execute(&mut *conn)
        .unwrap();
    }
    let mut unavailable = 0;
    let mut served_in_a_row = 0;
    for i in 0..40 {
        // a plain read (no transaction, where diesel would notice the loss itself) and a
        // caller's own read, in turn
        let r = if i % 2 == 0 {
            app.get("/api/v1/products", None).await
        } else {
            app.get("/api/v1/cart", Some(&buyer.token)).await
        };
        match r.status {
            200 => served_in_a_row += 1,
            503 => {
                assert_eq!(r.header("retry-after").as_deref(), Some("1"));
                r.expect_problem(503, "unavailable");
                unavailable += 1;
                served_in_a_row = 0;
            }
            other => panic!("a lost connection answered {other}: {}", r.body),
        }
        if served_in_a_row == 10 {
            break;
        }
    }
    assert_eq!(
        served_in_a_row, 10,
        "broken connections were dropped, not handed out again ({unavailable} × 503)"
    );
    assert!(
        unavailable <= 6,
        "at most one 503 per pooled connection: {unavailable}"
    );
}

/// The outermost write transaction is run again on a real deadlock; both sides commit once.
#[actix_web::test]
async fn write_transactions_are_retried_after_a_deadlock() {
    let app = spawn_app().await;
    if !app.is_postgres() {
        return;
    }
    {
        let mut conn = app.conn();
        conn.batch_execute(
            "CREATE TABLE retry_probe (id int PRIMARY KEY, n int NOT NULL); \
             INSERT INTO retry_probe VALUES (1, 0), (2, 0)",
        )
        .unwrap();
    }
    let retries_before = metric(&app, "db_transaction_retries_total", &["deadlock"]).await;
    let barrier = Arc::new(Barrier::new(2));
    let attempts = Arc::new(AtomicU32::new(0));
    let sides: Vec<_> = [(1, 2), (2, 1)]
        .into_iter()
        .map(|(first, second)| {
            let (pool, barrier, attempts) = (app.pool.clone(), barrier.clone(), attempts.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let mut mine = 0;
                db::write_tx(&mut conn, |c| {
                    mine += 1;
                    attempts.fetch_add(1, Ordering::SeqCst);
                    bump(c, first)?;
                    if mine == 1 {
                        // both hold their first row before either asks for the other's
                        barrier.wait();
                    }
                    bump(c, second)
                })
            })
        })
        .collect();
    for side in sides {
        side.join().unwrap().expect("both sides commit in the end");
    }
    // one side runs again; on a loaded machine its retry can take its first row back before
    // the other side, woken by the rollback, gets it, and the two deadlock once more
    let attempts = attempts.load(Ordering::SeqCst);
    assert!((3..=6).contains(&attempts), "a side ran again: {attempts}");
    let mut conn = app.conn();
    let rows: Vec<(i32, i32)> = diesel::sql_query("SELECT id, n FROM retry_probe ORDER BY id")
        .load::<Probe>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.n))
        .collect();
    assert_eq!(
        rows,
        vec![(1, 2), (2, 2)],
        "the failed attempt left nothing behind"
    );
    assert!(
        metric(&app, "db_transaction_retries_total", &["deadlock"]).await >= retries_before + 1.0
    );
}

/// A serialization failure is retried a bounded number of times; any other error never.
#[actix_web::test]
async fn only_transient_failures_are_retried_and_only_so_often() {
    let app = spawn_app().await;
    if !app.is_postgres() {
        return;
    }
    let mut conn = app.conn();
    let raise = |code: &str| {
        format!("DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{code}'; END $$")
    };
    let mut tries = 0;
    let out: Result<(), diesel::result::Error> = db::write_tx(&mut conn, |c| {
        tries += 1;
        if tries < 3 {
            diesel::sql_query(raise("40001")).execute(c)?;
        }
        Ok(())
    });
    assert!(out.is_ok());
    assert_eq!(tries, 3, "retried until it went through");

    let mut tries = 0;
    let out: Result<(), diesel::result::Error> = db::write_tx(&mut conn, |c| {
        tries += 1;
        diesel::sql_query(raise("40001")).execute(c).map(drop)
    });
    assert!(out.is_err());
    assert_eq!(tries, db::WRITE_ATTEMPTS, "bounded");

    let mut tries = 0;
    let out: Result<(), diesel::result::Error> = db::write_tx(&mut conn, |c| {
        tries += 1;
        diesel::sql_query(raise("23514")).execute(c).map(drop)
    });
    assert!(out.is_err());
    assert_eq!(tries, 1, "a check violation is not retried");
}

#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    n: i32,
}

fn bump(c: &mut db::DbConn, id: i32) -> Result<(), diesel::result::Error> {
    diesel::sql_query("UPDATE retry_probe SET n = n + 1 WHERE id = $1")
        .bind::<diesel::sql_types::Integer, _>(id)
        .execute(c)
        .map(drop)
}
