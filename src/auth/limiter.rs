//! Login throttling: failed attempts counted per email and per client address in a sliding
//! window. Successful logins never count, so a shared office address is not locked out by
//! its own colleagues signing in.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_email: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_email: usize, per_address: usize) -> Self {
        Self {
            window,
            per_email,
            per_address,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("e:{}", email.trim().to_lowercase()), true),
            (format!("a:{address}"), false),
        ]
    }

    /// `Err(seconds)` while either key has used up its failures.
    pub fn check(&self, email: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for (key, is_email) in Self::keys(email, address) {
            let limit = if is_email {
                self.per_email
            } else {
                self.per_address
            };
            if let Some(q) = map.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    q.pop_front();
                }
                if q.len() >= limit {
                    if let Some(oldest) = q.front() {
                        let left = self.window.saturating_sub(now.duration_since(*oldest));
                        wait = wait.max(left.as_secs().max(1));
                    }
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    pub fn record_failure(&self, email: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // bound memory under a spray of random emails: forget expired entries
            let window = self.window;
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        for (key, _) in Self::keys(email, address) {
            map.entry(key).or_default().push_back(now);
        }
    }

    pub fn clear_email(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("e:{}", email.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_email() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 100);
        for _ in 0..3 {
            assert!(l.check("a@b.cn", "1.1.1.1").is_ok());
            l.record_failure("a@b.cn", "1.1.1.1");
        }
        assert!(l.check("A@B.cn", "2.2.2.2").is_err());
        assert!(l.check("c@b.cn", "1.1.1.1").is_ok());
        l.clear_email("a@b.cn");
        assert!(l.check("a@b.cn", "2.2.2.2").is_ok());
    }

    #[test]
    fn blocks_after_limit_per_address() {
        let l = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        l.record_failure("x@b.cn", "9.9.9.9");
        l.record_failure("y@b.cn", "9.9.9.9");
        assert!(l.check("z@b.cn", "9.9.9.9").is_err());
    }
}
