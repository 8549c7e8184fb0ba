//! The real binary's log under `RUST_LOG=warn`: client errors are answers, not warnings.
//! (A process of its own on a SQLite file: what is logged does not depend on the database.)

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn client_errors_are_not_logged_as_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shanhe"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/shanhe.db", dir.path().display()),
        )
        .env("SHANHE_BIND", format!("127.0.0.1:{port}"))
        .env("SHANHE_JWT_SECRET", "log-test-secret-log-test-secret-0123")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let base = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
            up = r.status().is_success();
            if up {
                break;
            }
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");
    let register = json!({"email": "lin@shantou.cn", "password": PASSWORD, "display_name": "林"});
    let mut statuses = Vec::new();
    for (method, path, body) in [
        ("POST", "/api/v1/auth/register", Some(register.clone())),
        ("POST", "/api/v1/auth/register", Some(register)), // 409
        ("GET", "/api/v1/me", None),                       // 401
        (
            "GET",
            "/api/v1/products/00000000-0000-0000-0000-000000000000",
            None,
        ), // 404
        ("POST", "/api/v1/auth/login", Some(json!({"email": "x"}))), // 422
        ("DELETE", "/api/v1/products", None),              // 405
    ] {
        let req = client.request(method.parse().unwrap(), format!("{base}{path}"));
        let res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, vec![201, 409, 401, 404, 422, 405]);
    child.kill().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    child.wait().unwrap();
    assert!(!log.contains("WARN"), "{log}");
    assert!(!log.contains("ERROR"), "{log}");
}
