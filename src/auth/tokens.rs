//! Access tokens (HS256 JWTs, algorithm pinned, issuer checked) and opaque refresh tokens
//! (256 random bits, stored only as a SHA-256 hash).

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::domain::Role;
use crate::config::Secret;
use crate::ids::UserId;

pub const ISSUER: &str = "shanhe";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub iss: String,
}

/// Signing and verification keys with the token lifetimes.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &Secret, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    pub fn issue_access(&self, user_id: UserId, role: Role) -> Result<String, String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.as_str().to_owned(),
            iat: now,
            nbf: now,
            exp: now + self.access_ttl.as_secs() as i64,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: ISSUER.to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("signing a token failed: {e}"))
    }

    /// The claims of a valid token; any defect (algorithm, signature, time, issuer) is `None`.
    pub fn verify_access(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// A fresh refresh token and the hash the database keeps of it.
pub fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_refresh_token(&token);
    (token, hash)
}

pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The JWT secret: the configured one, or one generated once and kept in `dir` so restarts
/// keep sessions valid.
pub fn load_or_create_secret(configured: Option<&Secret>, dir: &Path) -> Result<Secret, String> {
    load_or_create_key(configured, dir, "jwt_secret", "SHANHE_JWT_SECRET")
}

/// A key as configured, else the one kept in `dir/file`, else a new random one written there.
pub fn load_or_create_key(
    configured: Option<&Secret>,
    dir: &Path,
    file: &str,
    variable: &str,
) -> Result<Secret, String> {
    if let Some(s) = configured {
        return Ok(s.clone());
    }
    let path = dir.join(file);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    write_private(&path, &secret)?;
    tracing::warn!(
        path = %path.display(),
        "{variable} is not set: generated a key and kept it beside the database; \
         production must set {variable}"
    );
    Ok(Secret::new(secret))
}

fn write_private(path: &Path, content: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(content.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &Secret::new("test-secret-test-secret-test-secret"),
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
    }

    #[test]
    fn tokens_round_trip() {
        let k = keys();
        let user = UserId::generate();
        let t = k.issue_access(user, Role::Admin).unwrap();
        let c = k.verify_access(&t).unwrap();
        assert_eq!(c.sub, user.to_string());
        assert_eq!(c.role, "admin");
    }

    #[test]
    fn tampered_tokens_fail() {
        let k = keys();
        let t = k.issue_access(UserId::generate(), Role::Customer).unwrap();
        let mut bad = t.clone();
        bad.pop();
        bad.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(k.verify_access(&bad).is_none());
        let other = TokenKeys::new(
            &Secret::new("another-secret-another-secret!!"),
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        assert!(other.verify_access(&t).is_none());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, ha) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_refresh_token(&a), ha);
    }
}
