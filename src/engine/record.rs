//! The stored-record format shared by both stores: versioned JSON
//! `{"v":1,"owner":"…","input":[…],"response":{…}}`, so a rolling upgrade can still read older
//! records and refuses (as missing, logged) the ones it does not understand. `owner` was added
//! within version 1: records written before it had no authentication, so they read as
//! `anonymous` (and stay invisible to authenticated callers).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoredResponse;
use crate::{
    api::{Item, ResponseResource},
    auth::Caller,
    error::GatewayError,
};

/// The record version this build writes.
pub const RECORD_VERSION: u64 = 1;

/// Why a stored record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Not JSON, or not the shape its version promises.
    #[error("malformed record: {0}")]
    Malformed(String),
    /// Written by a newer (or unknown) gateway version.
    #[error("unknown record version {0}")]
    UnknownVersion(Value),
}

/// The record as written: `{"v":1,"owner":"…","input":[…],"response":{…}}`.
#[derive(Serialize)]
struct RecordOut<'a> {
    v: u64,
    owner: &'a str,
    input: &'a [Item],
    response: &'a ResponseResource,
}

/// Version 1 as read.
#[derive(Deserialize)]
struct RecordV1 {
    #[serde(default = "anonymous")]
    owner: String,
    input: Vec<Item>,
    response: ResponseResource,
}

fn anonymous() -> String {
    Caller::ANONYMOUS.to_owned()
}

/// Encodes a stored response as a current-version record (exactly sized: the memory store
/// keeps these bytes and counts their length against `max_bytes`).
pub fn encode_record(stored: &StoredResponse) -> Result<Vec<u8>, GatewayError> {
    let record = RecordOut {
        v: RECORD_VERSION,
        owner: &stored.owner,
        input: &stored.input,
        response: &stored.response,
    };
    let mut bytes = serde_json::to_vec(&record)
        .map_err(|e| GatewayError::Internal(format!("cannot encode a conversation record: {e}")))?;
    bytes.shrink_to_fit();
    Ok(bytes)
}

/// Decodes a record of any version this build understands (today: 1).
pub fn decode_record(bytes: &[u8]) -> Result<StoredResponse, RecordError> {
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
    let version = value
        .as_object_mut()
        .and_then(|o| o.remove("v"))
        .unwrap_or(Value::Null);
    match version.as_u64() {
        Some(1) => {
            let record: RecordV1 =
                serde_json::from_value(value).map_err(|e| RecordError::Malformed(e.to_string()))?;
            Ok(StoredResponse {
                owner: record.owner,
                input: record.input,
                response: record.response,
            })
        }
        _ => Err(RecordError::UnknownVersion(version)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::CreateResponse;

    fn stored() -> StoredResponse {
        let request: CreateResponse =
            serde_json::from_value(json!({"model":"gpt-4o","input":"Hi"})).unwrap();
        StoredResponse {
            owner: "key:ci".to_owned(),
            input: request.input_items(),
            response: ResponseResource::in_progress(&request, "resp_1", "gpt-4o", 1),
        }
    }

    #[test]
    fn record_is_versioned_json_and_round_trips() {
        let original = stored();
        let bytes = encode_record(&original).unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["v"], 1);
        assert_eq!(value["owner"], "key:ci");
        assert_eq!(value["response"]["id"], "resp_1");
        assert_eq!(value["input"][0]["type"], "message");
        let back = decode_record(&bytes).unwrap();
        assert_eq!(back.owner, "key:ci");
        assert_eq!(back.input, original.input);
        assert_eq!(back.response, original.response);
    }

    #[test]
    fn records_from_before_owners_belong_to_anonymous() {
        let mut value: Value = serde_json::from_slice(&encode_record(&stored()).unwrap()).unwrap();
        value.as_object_mut().unwrap().remove("owner");
        let back = decode_record(value.to_string().as_bytes()).unwrap();
        assert_eq!(back.owner, Caller::ANONYMOUS);
    }

    #[test]
    fn unknown_versions_and_garbage_are_rejected() {
        let mut value: Value = serde_json::from_slice(&encode_record(&stored()).unwrap()).unwrap();
        value["v"] = json!(2);
        let err = decode_record(value.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, RecordError::UnknownVersion(v) if v == json!(2)));
        value.as_object_mut().unwrap().remove("v");
        let err = decode_record(value.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, RecordError::UnknownVersion(Value::Null)));
        let err = decode_record(b"not json").unwrap_err();
        assert!(matches!(err, RecordError::Malformed(_)));
        let err = decode_record(br#"{"v":1,"input":"x"}"#).unwrap_err();
        assert!(matches!(err, RecordError::Malformed(_)));
    }
}
