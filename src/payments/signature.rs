//! `Shanhe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How old (or how far ahead) a signature's timestamp may be.
pub const TOLERANCE_SECS: i64 = 300;

/// Whether `header` signs `body` with `secret` at a time within the tolerance of `now`.
/// Comparison is constant-time; several `v1` values (a rotated secret) are accepted.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    let mut t: Option<i64> = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse().ok(),
            Some(("v1", v)) => signatures.push(v.trim().to_owned()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > TOLERANCE_SECS {
        return false;
    }
    signatures.iter().any(|sig| {
        let Ok(expected) = hex::decode(sig) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// The header a provider would send (used by tests, the benchmark and the sandbox).
pub fn sign(secret: &str, body: &[u8], t: i64) -> String {
    // HMAC takes keys of any length, so this never returns early
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_bodies_verify() {
        let h = sign("whsec", b"{\"a\":1}", 1000);
        assert!(verify("whsec", &h, b"{\"a\":1}", 1000));
        assert!(verify("whsec", &h, b"{\"a\":1}", 1299));
        assert!(!verify("whsec", &h, b"{\"a\":1}", 1301), "too old");
        assert!(!verify("whsec", &h, b"{\"a\":2}", 1000), "body changed");
        assert!(!verify("other", &h, b"{\"a\":1}", 1000), "wrong key");
        assert!(
            !verify("whsec", "v1=00", b"{\"a\":1}", 1000),
            "no timestamp"
        );
    }
}
