//! The conversation store handle: stored responses (full input + response) in the conversation
//! actor, and the `previous_response_id` rule (previous input → previous output → new input).

use std::sync::Arc;

use actix::{Actor, Addr};
use gateway_actors::{ConversationActor, DeleteRecord, GetRecord, PutRecord};

use crate::{
    api::{Item, ResponseResource},
    config::ConversationsConfig,
    error::GatewayError,
};

/// A finished response and the full input that produced it.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// Everything sent upstream for this turn (history included).
    pub input: Vec<Item>,
    /// The response object.
    pub response: ResponseResource,
}

/// Handle to the conversation actor.
#[derive(Clone)]
pub struct ConversationStore {
    actor: Addr<ConversationActor<Arc<StoredResponse>>>,
}

impl ConversationStore {
    /// Starts the store actor.
    pub fn start(config: &ConversationsConfig) -> Self {
        let actor =
            ConversationActor::new(config.ttl, config.max_entries, config.max_bytes).start();
        Self { actor }
    }

    /// Loads a stored response, if it exists and has not expired.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<StoredResponse>>, GatewayError> {
        self.actor
            .send(GetRecord::new(id))
            .await
            .map_err(|e| GatewayError::Internal(format!("conversation store: {e}")))
    }

    /// Deletes a stored response; answers whether it existed.
    pub async fn delete(&self, id: &str) -> Result<bool, GatewayError> {
        self.actor
            .send(DeleteRecord { id: id.to_owned() })
            .await
            .map_err(|e| GatewayError::Internal(format!("conversation store: {e}")))
    }

    /// Stores a finished response (awaited, so an immediate follow-up finds it).
    pub async fn put(&self, stored: StoredResponse) -> Result<(), GatewayError> {
        let bytes = approximate_size(&stored);
        let id = stored.response.id.clone();
        self.actor
            .send(PutRecord {
                id,
                value: Arc::new(stored),
                bytes,
            })
            .await
            .map_err(|e| GatewayError::Internal(format!("conversation store: {e}")))
    }

    /// The input for a request: prior input and output (when continuing), then the new input.
    pub async fn resolve_input(
        &self,
        previous_response_id: Option<&str>,
        new_input: Vec<Item>,
    ) -> Result<Vec<Item>, GatewayError> {
        let Some(id) = previous_response_id else {
            return Ok(new_input);
        };
        let Some(previous) = self.get(id).await? else {
            return Err(GatewayError::NotFound {
                message: format!(
                    "Previous response with id '{id}' not found (unknown, expired, or stored with store=false)."
                ),
                param: Some("previous_response_id".to_owned()),
                code: "previous_response_not_found",
            });
        };
        let mut input = Vec::with_capacity(
            previous.input.len() + previous.response.output.len() + new_input.len(),
        );
        input.extend(previous.input.iter().cloned());
        input.extend(previous.response.output.iter().cloned());
        input.extend(new_input);
        Ok(input)
    }
}

/// Bytes a record costs, measured as its JSON size (what a remote store would hold).
fn approximate_size(stored: &StoredResponse) -> usize {
    let input = serde_json::to_vec(&stored.input).map_or(0, |v| v.len());
    let response = serde_json::to_vec(&stored.response).map_or(0, |v| v.len());
    input + response + 256
}
