//! Stored responses (OpenAI-compatible shapes): `GET` and `DELETE /v1/responses/{id}`, and
//! `GET /v1/responses/{id}/input_items`, a list page over the stored input (`limit`, `order`, `after`).

use std::collections::HashMap;

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{HeaderName, HeaderValue},
    web,
};
use serde_json::json;

use super::{not_allowed, request_id};
use crate::{
    api::{Item, MessageContent},
    auth::Caller,
    error::GatewayError,
};

/// Items per page when `limit` is absent (OpenAI's default).
const DEFAULT_LIMIT: usize = 20;
/// Largest `limit` accepted.
const MAX_LIMIT: usize = 100;

/// `GET /v1/responses/{id}`: the stored response object (a background response's current
/// state); with `stream=true`, a background response's events (`background::follow`).
pub async fn retrieve(
    req: HttpRequest,
    path: web::Path<String>,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = path.into_inner();
    let result = async {
        let caller = Caller::of(&req)?;
        if let Some(starting_after) = super::background::stream_query(req.query_string())? {
            let events = gateway
                .follow_response(&id, &caller.owner, starting_after)
                .await?;
            return Ok(super::background::event_stream(events));
        }
        let stored = gateway
            .conversations
            .get_owned(&id, &caller.owner)
            .await?
            .ok_or_else(|| response_not_found(&id))?;
        let stored = gateway.settle_orphan(stored).await;
        Ok(HttpResponse::Ok().json(&stored.response))
    }
    .await;
    finish(&req, result)
}

/// `DELETE /v1/responses/{id}`: `{"id","object":"response","deleted":true}`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = path.into_inner();
    let result = async {
        let caller = Caller::of(&req)?;
        if !gateway
            .conversations
            .delete_owned(&id, &caller.owner)
            .await?
        {
            return Err(response_not_found(&id));
        }
        Ok(HttpResponse::Ok().json(json!({"id": id, "object": "response", "deleted": true})))
    }
    .await;
    finish(&req, result)
}

/// `GET /v1/responses/{id}/input_items`: one page of the stored input (history included).
pub async fn input_items(
    req: HttpRequest,
    path: web::Path<String>,
    gateway: super::current::Current,
) -> HttpResponse {
    let id = path.into_inner();
    let result = async {
        let query = PageQuery::parse(req.query_string())?;
        let caller = Caller::of(&req)?;
        let stored = gateway
            .conversations
            .get_owned(&id, &caller.owner)
            .await?
            .ok_or_else(|| response_not_found(&id))?;
        let (data, has_more) = query.page(&stored.input)?;
        let first_id = data.first().and_then(|i| i.id());
        let last_id = data.last().and_then(|i| i.id());
        let body = json!({
            "object": "list",
            "data": data.iter().map(|i| render_item(i)).collect::<Vec<_>>(),
            "first_id": first_id,
            "last_id": last_id,
            "has_more": has_more,
        });
        Ok(HttpResponse::Ok().json(body))
    }
    .await;
    finish(&req, result)
}

/// 405 on `/v1/responses/{id}`.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    not_allowed(&req, "GET, DELETE")
}

/// 405 on `/v1/responses/{id}/input_items`.
pub async fn input_items_method_not_allowed(req: HttpRequest) -> HttpResponse {
    not_allowed(&req, "GET")
}

fn response_not_found(id: &str) -> GatewayError {
    GatewayError::NotFound {
        message: format!(
            "Response with id '{id}' not found (unknown, expired, deleted, or created with store=false)."
        ),
        param: None,
        code: "response_not_found",
    }
}

/// Renders the error object (logging it) and tags the reply with the request id.
pub(super) fn finish(
    req: &HttpRequest,
    result: Result<HttpResponse, GatewayError>,
) -> HttpResponse {
    let request_id = request_id(req);
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            match &err {
                GatewayError::Internal(detail) => {
                    tracing::error!(request_id, detail, "Internal error.");
                }
                other => tracing::info!(
                    request_id,
                    status = other.status().as_u16(),
                    code = other.code(),
                    "Request rejected."
                ),
            }
            actix_web::ResponseError::error_response(&err)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}

/// An input item as listed: message text shorthand becomes content parts (OpenAI's shape).
fn render_item(item: &Item) -> Item {
    match item {
        Item::Message(message) if matches!(message.content, MessageContent::Text(_)) => {
            let mut message = message.clone();
            message.content = MessageContent::Parts(message.content.to_parts(message.role));
            Item::Message(message)
        }
        other => other.clone(),
    }
}

/// List order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Input order.
    Asc,
    /// Newest first (the default, as in OpenAI).
    Desc,
}

/// `limit`, `order` and `after`, validated.
#[derive(Debug, PartialEq, Eq)]
struct PageQuery {
    limit: usize,
    order: Order,
    after: Option<String>,
}

impl PageQuery {
    /// Parses the query string; other parameters (`include`, …) are ignored.
    fn parse(query: &str) -> Result<Self, GatewayError> {
        let params = web::Query::<HashMap<String, String>>::from_query(query)
            .map_err(|e| GatewayError::invalid(format!("Malformed query string: {e}."), None))?
            .into_inner();
        let limit = match params.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    GatewayError::invalid(
                        format!("limit must be an integer from 1 to {MAX_LIMIT}; got '{text}'."),
                        Some("limit"),
                    )
                })?,
        };
        let order = match params.get("order").map(String::as_str) {
            None | Some("desc") => Order::Desc,
            Some("asc") => Order::Asc,
            Some(other) => {
                return Err(GatewayError::invalid(
                    format!("order must be 'asc' or 'desc'; got '{other}'."),
                    Some("order"),
                ));
            }
        };
        let after = params.get("after").filter(|a| !a.is_empty()).cloned();
        Ok(Self {
            limit,
            order,
            after,
        })
    }

    /// The page of `items` (in stored order) and whether more follow it.
    fn page<'a>(&self, items: &'a [Item]) -> Result<(Vec<&'a Item>, bool), GatewayError> {
        let ordered: Vec<&Item> = match self.order {
            Order::Asc => items.iter().collect(),
            Order::Desc => items.iter().rev().collect(),
        };
        let start = match &self.after {
            None => 0,
            Some(after) => {
                let position = ordered.iter().position(|i| i.id() == Some(after.as_str()));
                position.map(|p| p + 1).ok_or_else(|| {
                    GatewayError::invalid(
                        format!("No input item with id '{after}' in this response."),
                        Some("after"),
                    )
                })?
            }
        };
        let rest = ordered.len().saturating_sub(start);
        let data = ordered.into_iter().skip(start).take(self.limit).collect();
        Ok((data, rest > self.limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| {
                serde_json::from_value(json!({"type":"message","id":format!("msg_{i}"),
                    "role":"user","content":"x"}))
                .unwrap()
            })
            .collect()
    }

    fn ids(page: &[&Item]) -> Vec<String> {
        page.iter().map(|i| i.id().unwrap().to_owned()).collect()
    }

    #[test]
    fn query_defaults_and_errors_name_the_param() {
        let query = PageQuery::parse("").unwrap();
        assert_eq!(
            (query.limit, query.order, query.after),
            (20, Order::Desc, None)
        );
        let query = PageQuery::parse("limit=100&order=asc&after=msg_1&include=x").unwrap();
        assert_eq!(query.limit, 100);
        assert_eq!(query.order, Order::Asc);
        assert_eq!(query.after.as_deref(), Some("msg_1"));
        for (text, param) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=abc", "limit"),
            ("order=up", "order"),
        ] {
            let err = PageQuery::parse(text).unwrap_err();
            assert_eq!(err.status().as_u16(), 400);
            assert_eq!(err.param().as_deref(), Some(param), "{text}");
        }
    }

    #[test]
    fn pages_walk_both_orders() {
        let all = items(5);
        let query = |text: &str| PageQuery::parse(text).unwrap();
        let (page, more) = query("limit=2").page(&all).unwrap();
        assert_eq!(
            (ids(&page), more),
            (vec!["msg_4".into(), "msg_3".into()], true)
        );
        let (page, more) = query("limit=2&after=msg_3").page(&all).unwrap();
        assert_eq!(
            (ids(&page), more),
            (vec!["msg_2".into(), "msg_1".into()], true)
        );
        let (page, more) = query("limit=2&after=msg_1").page(&all).unwrap();
        assert_eq!((ids(&page), more), (vec!["msg_0".into()], false));
        let (page, more) = query("order=asc&limit=3&after=msg_1").page(&all).unwrap();
        assert_eq!((ids(&page).len(), more), (3, false));
        let (page, more) = query("order=asc&after=msg_4").page(&all).unwrap();
        assert!(page.is_empty() && !more);
        let err = query("after=msg_9").page(&all).unwrap_err();
        assert_eq!(err.param().as_deref(), Some("after"));
    }

    #[test]
    fn text_messages_are_listed_as_parts() {
        let item: Item =
            serde_json::from_value(json!({"type":"message","id":"m","role":"user","content":"hi"}))
                .unwrap();
        let value = serde_json::to_value(render_item(&item)).unwrap();
        assert_eq!(value["content"], json!([{"type":"input_text","text":"hi"}]));
    }
}
