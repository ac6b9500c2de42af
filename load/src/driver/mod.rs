//! `bench-driver`: what `wrk` cannot measure. `stream` times first tokens and per-chunk latency,
//! `hold` keeps many slow streams open and watches the proxy's memory, `startup` times a
//! process from spawn to listening and reads its idle RSS.

pub mod hold;
pub mod proc;
pub mod startup;
pub mod stream;

use std::time::Duration;

use bytes::Bytes;

/// Error type of the driver: every failure is reported, none panics.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A plain HTTP/1.1 client: no system proxy, Nagle off, `idle` pooled connections per host.
pub fn client(idle: usize) -> Result<reqwest::Client, Error> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(idle)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()?)
}

/// A JSON POST of `body` to `url`.
pub fn post(client: &reqwest::Client, url: &str, body: &Bytes) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.clone())
}
