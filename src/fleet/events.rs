//! Trips shared across the fleet: a JSON message on one Redis channel for the replicas running
//! now, and a key per trip expiring with it for the replicas that start later. The subscriber
//! task owns one pub/sub connection, reads the current keys after each (re)subscription, and
//! hands every trip from another replica to the fleet actor.

use std::time::Duration;

use actix::Addr;
use futures::StreamExt;
use gateway_actors::Trip;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use super::{FleetActor, RemoteTrip};

/// Keys read per `SCAN` round when catching up.
const SCAN_COUNT: usize = 100;

/// One trip on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct TripMessage {
    /// The replica that saw it (its own messages are ignored).
    pub origin: String,
    /// The provider instance.
    pub provider: String,
    /// The upstream model, for a cooling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How long it lasts from when it was sent, in ms.
    pub ms: u64,
}

impl TripMessage {
    /// The trip it describes.
    pub fn trip(&self) -> Trip {
        match &self.model {
            Some(model) => Trip::Cooling {
                model: model.clone(),
            },
            None => Trip::BreakerOpen,
        }
    }
}

/// The channel every replica of `prefix` listens on.
pub fn channel(prefix: &str) -> String {
    format!("{prefix}fleet:trips")
}

/// The key that keeps a trip for late joiners (same hash tag as the provider's limits).
pub fn trip_key(prefix: &str, provider: &str, trip: &Trip) -> String {
    match trip {
        Trip::Cooling { model } => format!("{prefix}trip:{{{provider}}}:cool:{model}"),
        Trip::BreakerOpen => format!("{prefix}trip:{{{provider}}}:open"),
    }
}

/// Writes the trip's key (expiring with it) and publishes it: one pipeline, two commands.
pub async fn publish(
    redis: &ConnectionManager,
    prefix: &str,
    message: &TripMessage,
    trip: &Trip,
) -> Result<(), redis::RedisError> {
    let payload = serde_json::to_string(message).unwrap_or_default();
    redis::pipe()
        .cmd("SET")
        .arg(trip_key(prefix, &message.provider, trip))
        .arg(&payload)
        .arg("PX")
        .arg(message.ms.max(1))
        .ignore()
        .cmd("PUBLISH")
        .arg(channel(prefix))
        .arg(&payload)
        .ignore()
        .query_async::<()>(&mut redis.clone())
        .await
}

/// Subscribes, catches up from the keys, then forwards trips until the connection drops;
/// reconnects every `retry` after that (for as long as the actor lives).
pub async fn subscribe(
    client: redis::Client,
    redis: ConnectionManager,
    prefix: String,
    me: String,
    fleet: Addr<FleetActor>,
    connect_timeout: Duration,
    retry: Duration,
) {
    while fleet.connected() {
        if let Err(err) = listen(&client, &redis, &prefix, &me, &fleet, connect_timeout).await {
            tracing::debug!(error = %err, "Fleet subscription lost; reconnecting.");
        }
        // A pause between attempts while Redis is away (not a synchronisation).
        tokio::time::sleep(retry).await;
    }
}

async fn listen(
    client: &redis::Client,
    redis: &ConnectionManager,
    prefix: &str,
    me: &str,
    fleet: &Addr<FleetActor>,
    connect_timeout: Duration,
) -> Result<(), redis::RedisError> {
    let timed_out = || redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
    let mut pubsub = tokio::time::timeout(connect_timeout, client.get_async_pubsub())
        .await
        .map_err(|_| timed_out())??;
    pubsub.subscribe(channel(prefix)).await?;
    catch_up(redis, prefix, me, fleet).await?;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Ok(payload) = message.get_payload::<String>() else {
            continue;
        };
        forward(&payload, None, me, fleet);
    }
    Ok(())
}

/// Applies the trips still in force (their keys), with what is left of each.
async fn catch_up(
    redis: &ConnectionManager,
    prefix: &str,
    me: &str,
    fleet: &Addr<FleetActor>,
) -> Result<(), redis::RedisError> {
    let mut conn = redis.clone();
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}trip:*"))
            .arg("COUNT")
            .arg(SCAN_COUNT)
            .query_async(&mut conn)
            .await?;
        for key in keys {
            let (payload, left): (Option<String>, i64) = redis::pipe()
                .cmd("GET")
                .arg(&key)
                .cmd("PTTL")
                .arg(&key)
                .query_async(&mut conn)
                .await?;
            if let (Some(payload), Ok(left)) = (payload, u64::try_from(left)) {
                forward(&payload, Some(left), me, fleet);
            }
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

fn forward(payload: &str, left_ms: Option<u64>, me: &str, fleet: &Addr<FleetActor>) {
    let Ok(message) = serde_json::from_str::<TripMessage>(payload) else {
        tracing::debug!("Unreadable fleet trip message; ignored.");
        return;
    };
    // A replica's own trips come back through the channel and its keys: already applied.
    if message.origin == me {
        return;
    }
    fleet.do_send(RemoteTrip {
        provider: message.provider.clone(),
        trip: message.trip(),
        lasts: Duration::from_millis(left_ms.unwrap_or(message.ms)),
    });
}
