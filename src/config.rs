//! Configuration: `SHANHE_*` environment variables (plus `DATABASE_URL`), each also a flag of
//! `shanhe serve`. Secrets are wrapped so `Debug` never prints them.

use std::fmt;
use std::time::Duration;

use clap::Args;
use rust_decimal::Decimal;

use crate::db::DbUrl;

/// A secret value: usable, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Parses `250ms`, `30m`, `90s`, `2h`, `30d` or plain seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 250ms, 30m, 90s or 1800"))?;
    let too_long = || format!("{raw:?} is too long a duration");
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => n
            .checked_mul(60)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        "h" => n
            .checked_mul(3600)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        "d" => n
            .checked_mul(86_400)
            .map(Duration::from_secs)
            .ok_or_else(too_long),
        other => Err(format!("unknown duration unit {other:?} in {raw:?}")),
    }
}

fn parse_db_url(raw: &str) -> Result<DbUrl, String> {
    DbUrl::parse(raw)
}

fn parse_rate(raw: &str) -> Result<Decimal, String> {
    let d: Decimal = raw
        .trim()
        .parse()
        .map_err(|_| format!("{raw:?} is not a decimal rate like 0.05"))?;
    if d < Decimal::ZERO || d > Decimal::ONE {
        return Err("a commission rate lies between 0 and 1".into());
    }
    Ok(d)
}

fn parse_secret(raw: &str) -> Result<Secret, String> {
    if raw.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(Secret::new(raw))
}

/// Everything the server needs to start; built from flags and the environment.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// `sqlite://PATH`, a plain path, or `postgres://…`
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/shanhe.db", value_parser = parse_db_url)]
    pub database_url: DbUrl,

    /// host:port to listen on
    #[arg(long, env = "SHANHE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// HMAC key for access tokens (generated and kept beside the database when unset)
    #[arg(long, env = "SHANHE_JWT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// First admin's email, created at start-up if absent
    #[arg(long, env = "SHANHE_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// First admin's password
    #[arg(long, env = "SHANHE_ADMIN_PASSWORD", value_parser = parse_secret, hide_env_values = true)]
    pub admin_password: Option<Secret>,

    /// Key for the payment webhook's `Shanhe-Signature` (unset: the webhook answers 503)
    #[arg(long, env = "SHANHE_PAYMENT_WEBHOOK_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub payment_webhook_secret: Option<Secret>,

    /// Unpaid orders are cancelled after this (`30m`, `90s`, or seconds)
    #[arg(long, env = "SHANHE_PAYMENT_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub payment_timeout: Duration,

    /// How often each instance looks for unpaid orders to cancel and delivered ones to complete
    /// (default: a quarter of the payment timeout, between 250 ms and 15 s)
    #[arg(long, env = "SHANHE_SWEEP_INTERVAL", value_parser = parse_duration)]
    pub sweep_interval: Option<Duration>,

    /// Delivered orders complete after this many days
    #[arg(long, env = "SHANHE_AUTO_COMPLETE_DAYS", default_value_t = 7)]
    pub auto_complete_days: u32,

    /// Platform commission on co-op sales
    #[arg(long, env = "SHANHE_COMMISSION_RATE", default_value = "0.05", value_parser = parse_rate)]
    pub commission_rate: Decimal,

    /// Lifetime of access tokens
    #[arg(long, env = "SHANHE_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration)]
    pub access_token_ttl: Duration,

    /// Lifetime of refresh tokens
    #[arg(long, env = "SHANHE_REFRESH_TOKEN_TTL", default_value = "30d", value_parser = parse_duration)]
    pub refresh_token_ttl: Duration,

    /// SQLite `synchronous=FULL` (survives power loss, about a third slower) instead of NORMAL
    #[arg(long, env = "SHANHE_SQLITE_SYNC_FULL", default_value_t = false)]
    pub sqlite_sync_full: bool,

    /// SQLite's page cache per pooled connection, in MB: a large catalogue's searches read
    /// fewer pages from the operating system with more (resident memory grows by up to this
    /// much per connection)
    #[arg(long, env = "SHANHE_SQLITE_CACHE_MB", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub sqlite_cache_mb: u32,

    /// Browser origins allowed to call the API (comma-separated, or `*`); none by default
    #[arg(long, env = "SHANHE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Database connections in the pool (default: 2 × cores + 2)
    #[arg(long, env = "SHANHE_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// How long a request may wait for a database connection before it is answered 503 with
    /// Retry-After instead of starting work its client may no longer want
    #[arg(long, env = "SHANHE_QUEUE_TIMEOUT", value_parser = parse_duration, default_value = "2s")]
    pub queue_timeout: Duration,

    /// HTTP worker threads (default: one per core)
    #[arg(long, env = "SHANHE_WORKERS")]
    pub workers: Option<usize>,

    /// The address the public reaches this server at (`https://shanhe.example.cn`): trace
    /// URLs printed on lot labels start with it (default: http:// and the bound address)
    #[arg(long, env = "SHANHE_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,

    /// Key that signs and encrypts the pages' session cookies (generated and kept beside the
    /// database when unset, like the JWT key)
    #[arg(long, env = "SHANHE_SESSION_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub session_secret: Option<Secret>,

    /// Serve the sandbox provider's payment page (`确认支付` pays an order as the provider's
    /// webhook would); turn off where a real provider takes payments
    #[arg(long, env = "SHANHE_PAYMENT_SANDBOX", default_value_t = true, action = clap::ArgAction::Set)]
    pub payment_sandbox: bool,

    /// Catalogue searches matching at most this many products take them from the text index
    /// and sort them; commoner ones walk the catalogue in page order (see docs/performance.md)
    #[arg(long, env = "SHANHE_SEARCH_CANDIDATES", default_value_t = crate::catalogue::search::CANDIDATES)]
    pub search_candidates: usize,

    /// PostgreSQL streaming replicas (comma-separated `postgres://` URLs) that take the public
    /// catalogue's reads; SQLite ignores it
    #[arg(long, env = "SHANHE_REPLICA_URLS", value_delimiter = ',', value_parser = parse_replica_url)]
    pub replica_urls: Vec<Option<DbUrl>>,

    /// A replica further behind the primary than this is skipped until it catches up
    #[arg(long, env = "SHANHE_REPLICA_MAX_LAG", value_parser = parse_duration, default_value = "5s")]
    pub replica_max_lag: Duration,

    /// Addresses of the load balancers in front of this server (comma-separated IPs): for
    /// requests from them, the client's address (which login throttling counts by) is read from
    /// `X-Forwarded-For`; from anyone else that header is ignored
    #[arg(long, env = "SHANHE_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<Option<std::net::IpAddr>>,

    /// How long opening a PostgreSQL connection may take (libpq's connect_timeout, whole
    /// seconds) before the next host of a multi-host URL is tried or the request is answered 503
    #[arg(long, env = "SHANHE_DB_CONNECT_TIMEOUT", value_parser = parse_duration, default_value = "3s")]
    pub db_connect_timeout: Duration,
}

fn parse_proxy(raw: &str) -> Result<Option<std::net::IpAddr>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| format!("{raw:?} is not an IP address"))
}

/// `None` for an empty entry (an empty variable, a trailing comma); shown without credentials
/// (`DbUrl`'s `Debug`).
fn parse_replica_url(raw: &str) -> Result<Option<DbUrl>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match DbUrl::parse(raw)? {
        url @ DbUrl::Postgres(_) => Ok(Some(url)),
        DbUrl::Sqlite(_) => {
            Err("a replica URL starts with postgres:// (replicas are PostgreSQL's)".into())
        }
    }
}

fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{raw:?} must be an http or https URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{raw:?} must not have a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Where the public reaches this server: the base of every trace URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// As configured, else `http://` and the address the server is bound to (an unspecified
    /// address such as 0.0.0.0 reads as `localhost`).
    pub fn resolve(configured: Option<&str>, bound: std::net::SocketAddr) -> Self {
        match configured {
            Some(u) => PublicUrl(u.trim_end_matches('/').to_owned()),
            None if bound.ip().is_unspecified() => {
                PublicUrl(format!("http://localhost:{}", bound.port()))
            }
            None => PublicUrl(format!("http://{bound}")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The public page of a lot.
    pub fn trace_url(&self, trace_code: &str) -> String {
        format!("{}/t/{trace_code}", self.0)
    }
}

impl Config {
    /// Defaults for a given database, as if no variable were set (used by tests and tools).
    pub fn for_database(url: DbUrl) -> Self {
        Config {
            database_url: url,
            bind: "127.0.0.1:0".into(),
            jwt_secret: None,
            admin_email: None,
            admin_password: None,
            payment_webhook_secret: None,
            payment_timeout: Duration::from_secs(30 * 60),
            sweep_interval: None,
            auto_complete_days: 7,
            commission_rate: Decimal::new(5, 2),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            sqlite_sync_full: false,
            sqlite_cache_mb: 8,
            cors_origins: Vec::new(),
            db_pool_size: None,
            queue_timeout: Duration::from_secs(2),
            workers: None,
            search_candidates: crate::catalogue::search::CANDIDATES,
            public_url: None,
            session_secret: None,
            payment_sandbox: true,
            replica_urls: Vec::new(),
            trusted_proxies: Vec::new(),
            replica_max_lag: Duration::from_secs(5),
            db_connect_timeout: Duration::from_secs(3),
        }
    }

    /// How often to sweep: as configured, else often enough that an unpaid order is
    /// cancelled soon after its timeout (a quarter of it, 250 ms to 15 s).
    pub fn sweep_every(&self) -> Duration {
        self.sweep_interval.unwrap_or_else(|| {
            (self.payment_timeout / 4).clamp(Duration::from_millis(250), Duration::from_secs(15))
        })
    }

    /// Whether requests from `peer` come through a load balancer of ours.
    pub fn is_trusted_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies.contains(&Some(peer))
    }

    pub fn pool_size(&self) -> u32 {
        self.db_pool_size.unwrap_or_else(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
            cores * 2 + 2
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1800").unwrap(), Duration::from_secs(1800));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(2_592_000)
        );
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("307445734561825861m").is_err());
    }

    #[test]
    fn sweeps_follow_the_payment_timeout() {
        let mut c = Config::for_database(DbUrl::parse("sqlite://x.db").unwrap());
        assert_eq!(c.sweep_every(), Duration::from_secs(15));
        c.payment_timeout = Duration::from_secs(2);
        assert_eq!(c.sweep_every(), Duration::from_millis(500));
        c.sweep_interval = Some(Duration::from_secs(1));
        assert_eq!(c.sweep_every(), Duration::from_secs(1));
    }

    #[test]
    fn public_urls() {
        assert_eq!(
            parse_public_url("https://shanhe.example.cn/").unwrap(),
            "https://shanhe.example.cn"
        );
        assert!(parse_public_url("ftp://x").is_err());
        assert!(parse_public_url("https://x/?a=1").is_err());
        let bound: std::net::SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            PublicUrl::resolve(None, bound).trace_url("abc"),
            "http://localhost:8080/t/abc"
        );
        let bound: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            PublicUrl::resolve(Some("https://a.cn"), bound).as_str(),
            "https://a.cn"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = Config::for_database(DbUrl::parse("postgres://u:pw@h/db").unwrap());
        c.jwt_secret = Some(Secret::new("topsecret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("topsecret"));
        assert!(!shown.contains("pw"));
    }
}
