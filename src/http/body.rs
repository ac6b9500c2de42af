//! Reading and parsing request bodies: a size cap (413), JSON syntax and type errors (400) with
//! the offending parameter path.

use actix_web::{HttpRequest, web};
use bytes::BytesMut;
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::error::GatewayError;

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<bytes::Bytes, GatewayError> {
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
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The first step of every POST handler: the authenticated caller and the parsed JSON body.
pub async fn caller_and_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(crate::auth::Caller, T), GatewayError> {
    let caller = crate::auth::Caller::of(req)?;
    let bytes = read_body(req, payload, limit).await?;
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
