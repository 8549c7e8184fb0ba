//! Login throttling holds the guesser, not the owner, and counts across instances.

use serde_json::{json, Value};
use shanhe::config::{Config, Secret};

use crate::helpers::*;

/// A login sent from `source` (an address in 127.0.0.0/8) to `base`.
async fn login_from(base: &str, source: &str, email: &str, password: &str) -> (u16, Value) {
    let connector = awc::Connector::new().local_address(source.parse().expect("an address"));
    let client = awc::Client::builder().connector(connector).finish();
    let mut res = client
        .post(format!("{base}/api/v1/auth/login"))
        .send_json(&json!({"email": email, "password": password}))
        .await
        .expect("login sent");
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (res.status().as_u16(), body)
}

#[actix_web::test]
async fn a_guesser_cannot_lock_the_owner_out_from_another_address() {
    let app = spawn_app().await;
    app.register("victim@example.cn").await;
    for _ in 0..5 {
        let (status, _) = login_from(
            &app.base,
            "127.0.0.7",
            "victim@example.cn",
            "guess-guess-guess",
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, body) = login_from(&app.base, "127.0.0.7", "victim@example.cn", PASSWORD).await;
    assert_eq!(status, 429, "the guessing address is held: {body}");
    let (status, body) = login_from(&app.base, "127.0.0.8", "victim@example.cn", PASSWORD).await;
    assert_eq!(status, 200, "the owner elsewhere gets in: {body}");
    // another email from the guessing address is still allowed (under the address ceiling)
    app.register("neighbour@example.cn").await;
    let (status, _) = login_from(&app.base, "127.0.0.7", "neighbour@example.cn", PASSWORD).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn failures_count_across_instances_on_one_database() {
    let app = spawn_app().await;
    app.register("victim@example.cn").await;
    // a second instance of the server on the same database
    let mut config = Config::for_database(app.url.clone());
    config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret"));
    config.workers = Some(1);
    let shared = shanhe::app::prepare(config).expect("prepare");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let second = shanhe::app::start(shared, listener).expect("start");
    let handle = second.handle.clone();
    actix_web::rt::spawn(second.server);
    let other = format!("http://127.0.0.1:{}", second.port);
    for i in 0..5 {
        let base = if i % 2 == 0 { &app.base } else { &other };
        let (status, _) =
            login_from(base, "127.0.0.9", "victim@example.cn", "guess-guess-guess").await;
        assert_eq!(status, 401);
    }
    for base in [&app.base, &other] {
        let (status, _) = login_from(base, "127.0.0.9", "victim@example.cn", PASSWORD).await;
        assert_eq!(status, 429, "both instances see the five failures");
    }
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_request_that_cannot_get_a_connection_in_time_is_a_503_to_retry() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app_with(|c| {
        c.db_pool_size = Some(1);
        c.queue_timeout = std::time::Duration::from_millis(200);
    })
    .await;
    // the sweep runs once at start-up; let it finish before the lock goes on
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    // hold the write lock the next registration needs, so it keeps the only connection
    let mut conn = app.conn();
    if app.is_postgres() {
        conn.batch_execute("BEGIN; LOCK TABLE login_failures IN ACCESS EXCLUSIVE MODE;")
            .unwrap();
    } else {
        conn.batch_execute("BEGIN IMMEDIATE;").unwrap();
    }
    let stuck = app.post(
        "/api/v1/auth/register",
        None,
        json!({"email": "late@example.cn", "password": PASSWORD, "display_name": "晚到"}),
    );
    let waiting = async {
        // time for the registration to take the connection and stop at the lock
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let shed = app.get("/api/v1/products", None).await;
        conn.batch_execute("COMMIT;").unwrap();
        shed
    };
    let (stuck, shed) = futures::join!(stuck, waiting);
    assert_eq!(shed.header("retry-after").as_deref(), Some("1"));
    shed.expect_problem(503, "unavailable");
    stuck.expect(201);
}

/// A login to `base` from `source` carrying `X-Forwarded-For: forwarded`.
async fn login_forwarded(
    base: &str,
    source: &str,
    forwarded: &str,
    email: &str,
    password: &str,
) -> u16 {
    let connector = awc::Connector::new().local_address(source.parse().expect("an address"));
    let client = awc::Client::builder().connector(connector).finish();
    client
        .post(format!("{base}/api/v1/auth/login"))
        .insert_header(("X-Forwarded-For", forwarded))
        .send_json(&json!({"email": email, "password": password}))
        .await
        .expect("login sent")
        .status()
        .as_u16()
}

#[actix_web::test]
async fn behind_a_trusted_load_balancer_the_forwarded_client_is_throttled_not_the_balancer() {
    let app =
        spawn_app_with(|c| c.trusted_proxies = vec![Some("127.0.0.20".parse().unwrap())]).await;
    app.register("behind-lb@example.cn").await;
    let email = "behind-lb@example.cn";
    for _ in 0..5 {
        let status =
            login_forwarded(&app.base, "127.0.0.20", "203.0.113.7", email, "guess-guess").await;
        assert_eq!(status, 401);
    }
    // the guesser is held, even when it prepends an address of its choosing …
    let status = login_forwarded(&app.base, "127.0.0.20", "203.0.113.7", email, PASSWORD).await;
    assert_eq!(status, 429);
    let spoofed = "198.51.100.1, 203.0.113.7";
    let status = login_forwarded(&app.base, "127.0.0.20", spoofed, email, PASSWORD).await;
    assert_eq!(
        status, 429,
        "entries left of the balancer's own are the client's to invent"
    );
    // … while the owner, through the same balancer from elsewhere, gets in
    let status = login_forwarded(&app.base, "127.0.0.20", "203.0.113.8", email, PASSWORD).await;
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app =
        spawn_app_with(|c| c.trusted_proxies = vec![Some("127.0.0.20".parse().unwrap())]).await;
    app.register("direct@example.cn").await;
    let email = "direct@example.cn";
    for n in 0..5 {
        // a new made-up address on every guess does not reset the count
        let forwarded = format!("203.0.113.{}", 10 + n);
        let status =
            login_forwarded(&app.base, "127.0.0.21", &forwarded, email, "guess-guess").await;
        assert_eq!(status, 401);
    }
    let status = login_forwarded(&app.base, "127.0.0.21", "203.0.113.99", email, PASSWORD).await;
    assert_eq!(status, 429, "counted by the connection's address");
}
