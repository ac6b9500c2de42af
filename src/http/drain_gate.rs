//! The drain's door: while the gateway drains, probes and metrics are always served; a model
//! request gets a [`DrainTicket`] held until its response body ends (so the drain knows when
//! the last one finished), or, once new work is refused, a 503 `server_shutting_down`. Replies
//! sent while draining close their connection, so clients reconnect to another replica.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use actix_web::{
    Error, ResponseError,
    body::{BodySize, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::ConnectionType,
    middleware::Next,
};
use bytes::Bytes;

use crate::{engine::DrainTicket, error::GatewayError};

/// Paths served whatever the drain phase.
fn always_served(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz") || path == super::metrics::PATH
}

/// The middleware (`from_fn`).
pub async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let drain = match super::current::Current::of(req.request()) {
        Some(gateway) if !always_served(req.path()) => gateway.drain.clone(),
        _ => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
    };
    let Some(ticket) = drain.admit() else {
        let (request, _) = req.into_parts();
        let mut response = GatewayError::ShuttingDown.error_response();
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
        return Ok(ServiceResponse::new(request, response));
    };
    let mut response = next.call(req).await?;
    if drain.is_draining() {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response.map_body(|_, body| {
        BoxBody::new(Ticketed {
            body: body.boxed(),
            _ticket: ticket,
        })
    }))
}

/// A response body that holds its request's drain ticket until it ends or is dropped.
struct Ticketed {
    body: BoxBody,
    _ticket: DrainTicket,
}

impl MessageBody for Ticketed {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
