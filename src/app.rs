//! Composition root: start the actors once, then the HTTP server whose workers share them.

use std::net::SocketAddr;

use actix_web::{App, HttpServer, dev::Server, web};

use crate::{config::Config, engine::Engine, error::GatewayError};

/// A bound, not yet awaited server.
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    /// The server future; await it, or spawn it and stop it with its handle.
    pub server: Server,
    /// The drain signal: `drain.on_signals(server.handle(), grace)` (the binary) or
    /// `drain.shutdown(..)` drains gracefully; the server itself ignores signals.
    pub drain: crate::engine::Drain,
    /// The gateway requests start on; `reload` swaps it (SIGHUP in the binary).
    pub engine: std::sync::Arc<crate::engine::reload::EngineHandle>,
}

/// Starts actors and binds the HTTP server (must run inside an actix System).
pub fn start(config: Config) -> Result<Running, GatewayError> {
    crate::seal::Sealer::warm_up();
    let address = config.server.address;
    let workers = config.server.workers;
    let config_server = config.server.clone();
    let started = Engine::start(config)?;
    let drain = started.drain.clone();
    let handle = std::sync::Arc::new(crate::engine::reload::EngineHandle::new(started));
    let gateway = web::Data::from(handle.clone());
    let bodies = web::Data::new(crate::http::body::BodyLimits::new(
        &config_server,
        drain.clone(),
    ));
    let mut server = HttpServer::new(move || {
        // Runs once on each worker thread as it starts: its upstream clients are built here,
        // not on its first request.
        for provider in &gateway.current().config.providers {
            crate::providers::http::warm_thread(provider.connect_timeout);
        }
        App::new()
            .app_data(gateway.clone())
            .app_data(bodies.clone())
            // Every route but the probes needs credentials when auth is enabled.
            .wrap(crate::http::auth_gate::authentication())
            // Outside auth: a draining replica refuses new work before checking credentials.
            .wrap(actix_web::middleware::from_fn(
                crate::http::drain_gate::gate,
            ))
            // Any error that leaves the inner layers without a body gets the error object.
            .wrap(crate::http::empty_errors::middleware())
            // Wrapped last, so outermost: every response (401s included) gets `x-request-id`.
            .wrap(actix_web::middleware::from_fn(crate::http::request_id::tag))
            .configure(crate::http::configure)
    })
    // The drain serves for `shutdown_delay`, lets work finish for `shutdown_timeout`, then
    // closes open streams and only then stops the server: actix cuts what is left after a margin.
    .shutdown_timeout(crate::engine::CLOSE_MARGIN.as_secs())
    // Small SSE frames must leave at once: with Nagle on, each chunk waits ~40 ms for an ACK.
    .tcp_nodelay(true)
    // A client that closes its side has left (HTTP clients do not half-close while waiting):
    // actix then drops the handler or the response stream at once, which drops the upstream
    // call and every retry it would have made. With half-closes allowed, a client that left
    // before the first byte kept its upstream call (and retries) running until the deadline.
    .h1_allow_half_closed(false)
    // SIGTERM/SIGINT go through the drain (actix alone would stop at once on SIGINT).
    .disable_signals()
    .bind(address)
    .map_err(|e| GatewayError::Internal(format!("cannot listen on {address}: {e}")))?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    let addr = server
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| GatewayError::Internal("server bound no address".to_owned()))?;
    Ok(Running {
        addr,
        server: server.run(),
        drain,
        engine: handle,
    })
}
