use base64::Engine;
use diesel::prelude::*;
use serde_json::json;
use shanhe::config::{Config, Secret};
use shanhe::db::schema::users;

use crate::helpers::*;

#[actix_web::test]
async fn register_returns_user_and_token_pair() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "Chen.Li@Example.cn", "password": PASSWORD, "display_name": "陈丽", "phone": "13800138000"}),
        )
        .await
        .expect(201);
    assert_eq!(body["user"]["email"], "chen.li@example.cn");
    assert_eq!(body["user"]["display_name"], "陈丽");
    assert_eq!(body["user"]["role"], "customer");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    assert!(body["user"].get("password_hash").is_none());
}

#[actix_web::test]
async fn duplicate_email_is_409_whatever_the_case() {
    let app = spawn_app().await;
    app.register("dup@example.cn").await;
    app.post(
        "/api/v1/auth/register",
        None,
        json!({"email": "DUP@example.cn", "password": PASSWORD, "display_name": "x"}),
    )
    .await
    .expect_problem(409, "conflict");
}

#[actix_web::test]
async fn weak_password_and_bad_fields_are_422_with_every_field() {
    let app = spawn_app().await;
    let body = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "display_name": "  "}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, vec!["email", "password", "display_name"]);
    let body = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "same-as-pw@example.cn", "password": "same-as-pw@example.cn", "display_name": "x"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "password");
}

#[actix_web::test]
async fn login_succeeds_and_failures_look_identical() {
    let app = spawn_app().await;
    app.register("buyer@example.cn").await;
    let s = app.login("BUYER@example.cn", PASSWORD).await;
    assert!(!s.token.is_empty());
    let wrong_pw = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "buyer@example.cn", "password": "wrong-password-1"}),
        )
        .await
        .expect_problem(401, "unauthorized");
    let no_user = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.cn", "password": "wrong-password-1"}),
        )
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(wrong_pw, no_user);
}

#[actix_web::test]
async fn me_needs_a_valid_token() {
    let app = spawn_app().await;
    let s = app.register("me@example.cn").await;
    let me = app.get("/api/v1/me", Some(&s.token)).await.expect(200);
    assert_eq!(me["id"], s.user_id);
    assert_eq!(me["email"], "me@example.cn");
    assert_eq!(me["role"], "customer");
    assert_eq!(me["cooperatives"], json!([]));
    assert_eq!(me["organizations"], json!([]));
    app.get("/api/v1/me", None)
        .await
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/me", Some("garbage"))
        .await
        .expect_problem(401, "unauthorized");
}

fn forge(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn tampered_expired_and_unsigned_tokens_are_401() {
    let app = spawn_app().await;
    let s = app.register("t@example.cn").await;
    let now = chrono::Utc::now().timestamp();
    let secret = "test-secret-test-secret-test-secret";
    let claims = |iat: i64, exp: i64| json!({"sub": s.user_id, "role": "admin", "iat": iat, "nbf": iat, "exp": exp, "jti": "x", "iss": "shanhe"});
    // sanity: a well-formed forged token with the right key works
    app.get("/api/v1/me", Some(&forge(claims(now, now + 60), secret)))
        .await
        .expect(200);
    let expired = forge(claims(now - 7200, now - 3600), secret);
    let not_yet = forge(claims(now + 3600, now + 7200), secret);
    let wrong_key = forge(claims(now, now + 60), "another-secret-another-secret-xx");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let unsigned = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims(now, now + 60).to_string())
    );
    let mut tampered = s.token.clone();
    let payload_start = tampered.find('.').unwrap() + 1;
    tampered.replace_range(
        payload_start..payload_start + 4,
        if &tampered[payload_start..payload_start + 4] == "AAAA" {
            "BBBB"
        } else {
            "AAAA"
        },
    );
    let other_alg = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(now, now + 60),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    for bad in [expired, not_yet, wrong_key, unsigned, tampered, other_alg] {
        app.get("/api/v1/me", Some(&bad))
            .await
            .expect_problem(401, "unauthorized");
    }
}

#[actix_web::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let s = app.register("r@example.cn").await;
    let first = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": s.refresh}),
        )
        .await
        .expect(200);
    let r2 = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r2, s.refresh);
    app.get("/api/v1/me", Some(first["access_token"].as_str().unwrap()))
        .await
        .expect(200);
    // the rotated token presented again: theft; the whole family dies
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": s.refresh}),
    )
    .await
    .expect_problem(401, "unauthorized");
    app.post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let s = app.register("out@example.cn").await;
    let other = app.login("out@example.cn", PASSWORD).await;
    let r = app
        .post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": s.refresh}),
        )
        .await;
    assert_eq!(r.status, 204);
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": s.refresh}),
    )
    .await
    .expect_problem(401, "unauthorized");
    // another session of the same user is untouched
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": other.refresh}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn repeated_failures_are_rate_limited() {
    let app = spawn_app().await;
    app.register("victim@example.cn").await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "victim@example.cn", "password": "guess-guess-guess"}),
            )
            .await;
        statuses.push(r.status);
        if r.status == 429 {
            assert!(r.header("retry-after").is_some());
            assert_eq!(r.body["code"], "rate_limited");
        }
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[5..], [429; 2]);
    // even the right password is refused while locked
    app.post(
        "/api/v1/auth/login",
        None,
        json!({"email": "victim@example.cn", "password": PASSWORD}),
    )
    .await
    .expect_problem(429, "rate_limited");
}

#[actix_web::test]
async fn admin_bootstrap_is_idempotent_and_keeps_the_password() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let me = app.get("/api/v1/me", Some(&admin.token)).await.expect(200);
    assert_eq!(me["role"], "admin");
    let mut config = Config::for_database(app.url.clone());
    config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret"));
    config.admin_email = Some(ADMIN_EMAIL.into());
    config.admin_password = Some(Secret::new("a-different-password"));
    shanhe::app::prepare(config).expect("second start");
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut conn = app.conn();
    let admins: i64 = users::table
        .filter(users::role.eq("admin"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(admins, 1);
}

#[actix_web::test]
async fn a_weaker_stored_hash_is_upgraded_at_login() {
    use argon2::password_hash::{rand_core::OsRng, SaltString};
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    let app = spawn_app().await;
    let s = app.register("old@example.cn").await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    {
        let mut conn = app.conn();
        diesel::update(users::table.find(&s.user_id))
            .set(users::password_hash.eq(&weak))
            .execute(&mut *conn)
            .unwrap();
    }
    app.login("old@example.cn", PASSWORD).await;
    let mut conn = app.conn();
    let stored: String = users::table
        .find(&s.user_id)
        .select(users::password_hash)
        .first(&mut *conn)
        .unwrap();
    assert_ne!(stored, weak);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
}

#[actix_web::test]
async fn several_instances_starting_at_once_create_one_admin() {
    let app = spawn_app_with(|c| {
        c.admin_email = None;
        c.admin_password = None;
    })
    .await;
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let mut config = Config::for_database(app.url.clone());
            config.jwt_secret = Some(Secret::new("test-secret-test-secret-test-secret"));
            config.admin_email = Some("boss@shanhe.test".into());
            config.admin_password = Some(Secret::new("boss-password-123"));
            std::thread::spawn(move || shanhe::app::prepare(config).map(|_| ()))
        })
        .collect();
    for s in starts {
        s.join().unwrap().expect("every instance starts");
    }
    let mut conn = app.conn();
    let admins: i64 = users::table
        .filter(users::email.eq("boss@shanhe.test"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(admins, 1);
}
