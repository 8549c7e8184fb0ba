//! argon2id password hashing. Parameters travel in the PHC string, so raising them later
//! re-hashes old passwords at their next login.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    // these constants are valid argon2 parameters; Params::new only fails on out-of-range values
    let params = Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing failed: {e}"))
}

/// Verifies against a stored hash; `None` (unknown account) still spends the same work on a
/// dummy hash so timing does not tell whether the email exists.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let dummy = dummy_hash();
    let target = stored.unwrap_or(dummy);
    let ok = match PasswordHash::new(target) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    };
    ok && stored.is_some()
}

/// Whether a stored hash uses weaker parameters than today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    match Params::try_from(&parsed) {
        Ok(p) => p.m_cost() < M_COST || p.t_cost() < T_COST || p.p_cost() < P_COST,
        Err(_) => true,
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("not-a-real-password-just-timing").unwrap_or_default())
}

/// Bounds argon2 work: it runs on `threads` dedicated threads (about the core count), one hash
/// each at a time, each taking 19 MiB; a caller waits at most `queue_wait` for a turn, then
/// gets `None` (the handler answers 503 with Retry-After). Dedicated threads matter as much as
/// the bound: the allocator keeps a hash's 19 MiB per thread that ever ran one, so hashing on
/// the general blocking pool (hundreds of threads) grew the process to gigabytes.
#[derive(Clone)]
pub struct HashGate {
    permits: Arc<tokio::sync::Semaphore>,
    queue_wait: Duration,
    jobs: std::sync::mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

impl HashGate {
    pub fn new(threads: usize, queue_wait: Duration) -> Self {
        let threads = threads.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            // a thread that cannot start leaves fewer hashers; the permits still bound the work
            let _ = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                });
        }
        HashGate {
            permits: Arc::new(tokio::sync::Semaphore::new(threads)),
            queue_wait,
            jobs,
        }
    }

    /// Runs `work` on a hashing thread once one is free; `None` when none came in time.
    pub async fn run<T, F>(&self, work: F) -> Option<Result<T, String>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned())
            .await
            .ok()?
            .ok()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.jobs.send(Box::new(move || {
            let _ = tx.send(work());
        }));
        if sent.is_err() {
            return Some(Err("no hashing thread is running".into()));
        }
        let out = rx
            .await
            .map_err(|_| "the hashing thread stopped".to_string());
        drop(permit);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("黑土地的有机大米好吃").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("黑土地的有机大米好吃", Some(&h)));
        assert!(!verify("wrong password", Some(&h)));
        assert!(!verify("黑土地的有机大米好吃", None));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn weaker_hashes_are_rehashed() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));
    }

    #[actix_web::test]
    async fn the_gate_holds_hashing_to_its_permits_and_turns_the_rest_away() {
        let gate = HashGate::new(1, Duration::from_millis(50));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let busy = gate.clone();
        let first = actix_web::rt::spawn(async move { busy.run(move || rx.recv().is_ok()).await });
        // let the first take the only permit
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        assert!(gate.run(|| 1).await.is_none(), "no turn within the wait");
        tx.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Some(Ok(true)));
        assert_eq!(
            gate.run(|| 2).await,
            Some(Ok(2)),
            "a turn once the permit is back"
        );
    }
}
