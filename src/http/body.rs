//! Reading and parsing request bodies: a size cap (413), a whole-body deadline (408), a bound on
//! the memory all bodies still being read may hold (503), JSON syntax and type errors (400) with
//! the offending parameter path.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix_web::{HttpRequest, web};
use bytes::BytesMut;
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::{config::ServerConfig, engine::Drain, error::GatewayError};

/// What every body read obeys, shared by all workers (registered as app data).
#[derive(Clone)]
pub struct BodyLimits {
    /// Largest body (413 beyond).
    pub max_bytes: usize,
    /// Longest time to receive a whole body (408 after it).
    pub timeout: Duration,
    /// Bytes held by bodies still being read, across all connections.
    pending: Arc<AtomicUsize>,
    /// Bound on `pending` (503 beyond).
    max_pending: usize,
    /// A read still going when the drain closes ends then (it would delay the exit).
    drain: Drain,
}

impl BodyLimits {
    /// The limits of `server`, ending reads when `drain` closes.
    pub fn new(server: &ServerConfig, drain: Drain) -> Self {
        Self {
            max_bytes: server.max_body_bytes,
            timeout: server.body_timeout,
            pending: Arc::new(AtomicUsize::new(0)),
            max_pending: server.max_pending_body_bytes,
            drain,
        }
    }

    /// Bytes held by bodies still being read right now.
    pub fn pending_bytes(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }
}

/// The share of [`BodyLimits::pending`] one read holds; given back when the read ends.
struct Reservation<'a> {
    limits: &'a BodyLimits,
    held: usize,
}

impl Reservation<'_> {
    /// Takes `n` more bytes from the shared budget, or refuses with 503.
    fn grow(&mut self, n: usize) -> Result<(), GatewayError> {
        let before = self.limits.pending.fetch_add(n, Ordering::Relaxed);
        if before + n > self.limits.max_pending {
            self.limits.pending.fetch_sub(n, Ordering::Relaxed);
            return Err(GatewayError::Overloaded {
                message: "The gateway is receiving too many large request bodies at once; retry shortly.",
            });
        }
        self.held += n;
        Ok(())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.limits.pending.fetch_sub(self.held, Ordering::Relaxed);
    }
}

/// Reads the whole body under `limits`: at most `max_bytes` (413), within `timeout` of the
/// first poll (408), while the bytes held by all unfinished reads stay under the shared bound
/// (503).
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limits: &BodyLimits,
) -> Result<bytes::Bytes, GatewayError> {
    let timeout = limits.timeout;
    tokio::select! {
        read = tokio::time::timeout(timeout, read_within(req, payload, limits)) => {
            read.map_err(|_| GatewayError::RequestTimeout { after: timeout })?
        }
        () = limits.drain.closed() => Err(GatewayError::ShuttingDown),
    }
}

async fn read_within(
    req: &HttpRequest,
    mut payload: web::Payload,
    limits: &BodyLimits,
) -> Result<bytes::Bytes, GatewayError> {
    let limit = limits.max_bytes;
    let mut reservation = Reservation { limits, held: 0 };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            GatewayError::invalid(format!("Could not read the request body: {e}."), None)
        })?;
        if body.len() + chunk.len() > limit {
            return Err(GatewayError::PayloadTooLarge { limit });
        }
        reservation.grow(chunk.len())?;
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The first step of every POST handler: the authenticated caller and the parsed JSON body.
pub async fn caller_and_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(crate::auth::Caller, T), GatewayError> {
    let caller = crate::auth::Caller::of(req)?;
    let limits = req
        .app_data::<web::Data<BodyLimits>>()
        .ok_or_else(|| GatewayError::Internal("body limits are not registered".to_owned()))?;
    let bytes = read_body(req, payload, limits).await?;
    Ok((caller, parse_json(&bytes)?))
}

/// Parses a JSON object body into `T`, naming the offending path on type errors.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => {
            return Err(GatewayError::invalid(
                "The request body is empty; send a JSON object.",
                None,
            ));
        }
        Some(b'{') => {}
        Some(_) => {
            return Err(GatewayError::InvalidRequest {
                message: "The request body must be a JSON object.".to_owned(),
                param: None,
                code: "invalid_json",
            });
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return GatewayError::InvalidRequest {
                message: format!("The request body is not valid JSON: {inner}."),
                param: None,
                code: "invalid_json",
            };
        }
        let param = (path != ".").then_some(path);
        GatewayError::InvalidRequest {
            message: match &param {
                Some(p) => format!("Invalid value for `{p}`: {inner}."),
                None => format!("Invalid request body: {inner}."),
            },
            param,
            code: "invalid_type",
        }
    })?;
    deserializer
        .end()
        .map_err(|e| GatewayError::InvalidRequest {
            message: format!("The request body is not valid JSON: {e}."),
            param: None,
            code: "invalid_json",
        })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CreateResponse;

    #[test]
    fn type_errors_name_the_path() {
        let err = parse_json::<CreateResponse>(
            br#"{"model":"m","input":[{"type":"message","role":"user","content":5}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.param().as_deref(), Some("input[0]"));
        let err = parse_json::<CreateResponse>(br#"{"model":"m","temperature":"x"}"#).unwrap_err();
        assert_eq!(err.param().as_deref(), Some("temperature"));
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert_eq!(
            parse_json::<CreateResponse>(b"{nope").unwrap_err().code(),
            "invalid_json"
        );
        assert_eq!(
            parse_json::<CreateResponse>(b"[1]").unwrap_err().code(),
            "invalid_json"
        );
        assert_eq!(
            parse_json::<CreateResponse>(b"")
                .unwrap_err()
                .status()
                .as_u16(),
            400
        );
    }
}
