//! Redis for tests: the machine's server on 127.0.0.1:6379 and a fresh key prefix per test,
//! whose keys are deleted when it drops (they would expire anyway).

/// The machine's Redis.
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A fresh key prefix; the test's keys are deleted when dropped.
pub struct Prefix(pub String);

impl Prefix {
    pub fn new() -> Self {
        Self(format!(
            "llm-gateway-test:{}:",
            uuid::Uuid::new_v4().simple()
        ))
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        if let Ok(mut conn) = redis::Client::open(REDIS_URL).and_then(|c| c.get_connection()) {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}*", self.0))
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        }
    }
}
