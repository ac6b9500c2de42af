//! Fleet mode: N replicas sharing one Redis behave as one gateway. The [`FleetActor`] is the
//! control plane: it keeps each provider's [`LeasePool`] topped up from the fleet-wide token
//! buckets (one lease task per provider), publishes this replica's 429 cooling and breaker trips
//! and hands the other replicas' to the provider actors, and refreshes this replica's heartbeat.
//! The request path never waits on Redis except for a lease already on its way (at most the
//! command timeout). When Redis fails, every pool falls back to local buckets at
//! `limit ÷ live replicas` and `gateway_fleet_degraded` is 1 until a heartbeat succeeds again.

mod bucket;
mod events;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use actix::prelude::*;
use gateway_actors::{ApplyTrip, LeasePool, ProviderActor, ProviderGate, Trip, Tripped};
use redis::aio::ConnectionManager;
use tokio::time::Instant;

use self::{bucket::FleetBucket, events::TripMessage};
use crate::{
    config::{FleetConfig, RedisStoreConfig},
    error::GatewayError,
    observability::metrics::FLEET_DEGRADED,
};

/// A replica missing this many heartbeats no longer counts as live.
const HEARTBEATS_TO_EXPIRE: u32 = 3;

/// What the fleet actor publishes about the fleet: live replicas at the last heartbeat and
/// whether Redis is unreachable (caller quotas read both on the request path).
#[derive(Debug)]
pub struct FleetStatus {
    live: AtomicUsize,
    degraded: AtomicBool,
}

impl FleetStatus {
    /// One live replica (this one), Redis assumed reachable.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            live: AtomicUsize::new(1),
            degraded: AtomicBool::new(false),
        })
    }

    /// Live replicas (at least 1).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed).max(1)
    }

    /// Whether Redis is unreachable (limits are enforced locally).
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }
}

/// Another replica's trip, from the subscription.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct RemoteTrip {
    /// The provider instance.
    pub provider: String,
    /// What tripped.
    pub trip: Trip,
    /// For how long from now.
    pub lasts: Duration,
}

/// A Redis call failed or timed out (from a lease task).
#[derive(Message, Debug)]
#[rtype(result = "()")]
struct RedisFailed;

/// One provider as the fleet sees it.
pub struct FleetProvider {
    /// Its gate (limits pool, trips).
    pub gate: Arc<ProviderGate>,
    /// Its actor (applies other replicas' trips).
    pub actor: Addr<ProviderActor>,
}

/// The fleet control plane of this replica.
pub struct FleetActor {
    redis: ConnectionManager,
    client: redis::Client,
    prefix: String,
    me: String,
    config: FleetConfig,
    connect_timeout: Duration,
    command_timeout: Duration,
    providers: HashMap<String, FleetProvider>,
    /// Live replicas at the last heartbeat (the degraded share divides by it) and degradation.
    status: Arc<FleetStatus>,
    degraded: bool,
    /// Turns true when the replica stops serving (the drain closed): leases go back then.
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl FleetActor {
    /// Starts the fleet actor for `providers` and makes their gates report trips to it (must
    /// run inside an actix System; Redis connects on first use).
    pub fn start(
        redis: &RedisStoreConfig,
        config: &FleetConfig,
        providers: HashMap<String, FleetProvider>,
        stopping: tokio::sync::watch::Receiver<bool>,
        status: Arc<FleetStatus>,
    ) -> Result<Addr<Self>, GatewayError> {
        let client = redis
            .client()
            .map_err(|e| GatewayError::Internal(format!("fleet Redis URL: {e}")))?;
        let manager = redis.manager_with(client.clone(), "the fleet")?;
        let gates: Vec<Arc<ProviderGate>> = providers.values().map(|p| p.gate.clone()).collect();
        let actor = Self {
            redis: manager,
            client,
            prefix: redis.key_prefix.clone(),
            me: uuid::Uuid::new_v4().to_string(),
            config: config.clone(),
            connect_timeout: redis.connect_timeout,
            command_timeout: redis.command_timeout,
            providers,
            status,
            degraded: false,
            stopping,
        }
        .start();
        for gate in gates {
            gate.share_trips(actor.clone().recipient());
        }
        Ok(actor)
    }

    /// One heartbeat: this replica's score in the live set, stale ones dropped, the count read.
    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let redis = self.redis.clone();
        let key = format!("{}fleet:replicas", self.prefix);
        let me = self.me.clone();
        let now_ms = unix_ms();
        let horizon = self.config.heartbeat_interval * HEARTBEATS_TO_EXPIRE;
        let stale = now_ms.saturating_sub(u64::try_from(horizon.as_millis()).unwrap_or(0));
        let timeout = self.command_timeout;
        let beat = async move {
            let mut conn = redis;
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("ZADD")
                .arg(&key)
                .arg(now_ms)
                .arg(&me)
                .ignore()
                .cmd("ZREMRANGEBYSCORE")
                .arg(&key)
                .arg("-inf")
                .arg(stale)
                .ignore()
                .cmd("ZCARD")
                .arg(&key);
            let call = pipe.query_async::<(usize,)>(&mut conn);
            tokio::time::timeout(timeout, call).await.ok()?.ok()
        };
        ctx.spawn(beat.into_actor(self).map(|live, act, _| {
            match live {
                Some((live,)) => {
                    act.status.live.store(live.max(1), Ordering::Relaxed);
                    act.set_degraded(false);
                }
                None => act.set_degraded(true),
            }
            // Set on every beat too: the recorder may be installed after this actor starts.
            metrics::gauge!(FLEET_DEGRADED).set(if act.degraded { 1.0 } else { 0.0 });
        }));
    }

    /// Enters or leaves degraded mode (one log line and the gauge per change).
    fn set_degraded(&mut self, degraded: bool) {
        if self.degraded == degraded {
            return;
        }
        self.degraded = degraded;
        self.status.degraded.store(degraded, Ordering::Relaxed);
        let live = self.status.live();
        let now = Instant::now();
        for provider in self.providers.values() {
            match provider.gate.lease_pool() {
                Some(pool) if degraded => pool.degrade(live, now),
                Some(_) => provider.gate.fleet_recovered(),
                None => {}
            }
        }
        if degraded {
            tracing::warn!(
                live_replicas = live,
                "Redis is unreachable; fleet limits are enforced locally at this replica's share until it is back."
            );
        } else {
            tracing::info!("Redis is back; fleet limits are shared again.");
        }
        metrics::gauge!(FLEET_DEGRADED).set(if degraded { 1.0 } else { 0.0 });
    }
}

impl Actor for FleetActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let me = ctx.address();
        actix::spawn(events::subscribe(
            self.client.clone(),
            self.redis.clone(),
            self.prefix.clone(),
            self.me.clone(),
            me.clone(),
            self.connect_timeout,
            self.config.heartbeat_interval,
        ));
        for (name, provider) in &self.providers {
            if let Some(pool) = provider.gate.lease_pool() {
                actix::spawn(lease_loop(LeaseTask {
                    bucket: FleetBucket::new(&self.prefix, name, pool),
                    pool: pool.clone(),
                    redis: self.redis.clone(),
                    timeout: self.command_timeout,
                    idle: self.config.lease_idle,
                    status: self.status.clone(),
                    fleet: me.clone(),
                    stopping: self.stopping.clone(),
                }));
            }
        }
        self.heartbeat(ctx);
        ctx.run_interval(self.config.heartbeat_interval, Self::heartbeat);
    }
}

impl Handler<Tripped> for FleetActor {
    type Result = ();

    fn handle(&mut self, msg: Tripped, ctx: &mut Self::Context) {
        if msg.trip == Trip::BreakerOpen && !self.config.share_breakers {
            return;
        }
        let message = TripMessage {
            origin: self.me.clone(),
            provider: msg.provider,
            model: match &msg.trip {
                Trip::Cooling { model } => Some(model.clone()),
                Trip::BreakerOpen => None,
            },
            ms: u64::try_from(msg.lasts.as_millis()).unwrap_or(u64::MAX),
        };
        let redis = self.redis.clone();
        let prefix = self.prefix.clone();
        let timeout = self.command_timeout;
        let publish = async move {
            let call = events::publish(&redis, &prefix, &message, &msg.trip);
            matches!(tokio::time::timeout(timeout, call).await, Ok(Ok(())))
        };
        ctx.spawn(publish.into_actor(self).map(|ok, act, _| {
            if !ok {
                act.set_degraded(true);
            }
        }));
    }
}

impl Handler<RemoteTrip> for FleetActor {
    type Result = ();

    fn handle(&mut self, msg: RemoteTrip, _: &mut Self::Context) {
        if msg.trip == Trip::BreakerOpen && !self.config.share_breakers {
            return;
        }
        if let Some(provider) = self.providers.get(&msg.provider) {
            provider.actor.do_send(ApplyTrip {
                trip: msg.trip,
                lasts: msg.lasts,
            });
        }
    }
}

impl Handler<RedisFailed> for FleetActor {
    type Result = ();

    fn handle(&mut self, _: RedisFailed, _: &mut Self::Context) {
        self.set_degraded(true);
    }
}

/// What one provider's lease task needs.
struct LeaseTask {
    bucket: FleetBucket,
    pool: Arc<LeasePool>,
    redis: ConnectionManager,
    timeout: Duration,
    idle: Duration,
    status: Arc<FleetStatus>,
    fleet: Addr<FleetActor>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// Hands what `task`'s pool still holds back to the fleet bucket (the replica is stopping), so
/// the other replicas can use it this minute.
async fn give_back(task: &LeaseTask) {
    let held = task.pool.drain();
    if held.requests == 0 && held.tokens == 0 {
        return;
    }
    let call = task.bucket.run(&task.redis, held, true);
    match tokio::time::timeout(task.timeout, call).await {
        Ok(Ok(_)) => tracing::info!(
            requests = held.requests,
            tokens = held.tokens,
            "Unused fleet leases handed back."
        ),
        _ => tracing::warn!(
            "Unused fleet leases could not be handed back; they refill with the bucket."
        ),
    }
}

/// Keeps one pool topped up ahead of demand and hands back what sat idle, while the fleet
/// actor lives. A failed lease degrades the pool at once (so waiting requests go on locally)
/// and tells the actor, which degrades the rest.
async fn lease_loop(task: LeaseTask) {
    while task.fleet.connected() {
        // Wakes on demand, or after `idle` to hand back what nobody used, or to stop.
        let mut stopping = task.stopping.clone();
        tokio::select! {
            _ = tokio::time::timeout(task.idle, task.pool.low()) => {}
            _ = stopping.wait_for(|stop| *stop) => {
                give_back(&task).await;
                return;
            }
        }
        let now = Instant::now();
        let mut failed = false;
        if let Some(surplus) = task.pool.take_idle(task.idle, now) {
            let call = task.bucket.run(&task.redis, surplus, true);
            failed |= !matches!(tokio::time::timeout(task.timeout, call).await, Ok(Ok(_)));
        }
        if let Some(asked) = task.pool.lease_now(now) {
            let call = task.bucket.run(&task.redis, asked, false);
            match tokio::time::timeout(task.timeout, call).await {
                Ok(Ok((granted, refill))) => {
                    task.pool.granted(asked, granted, refill, Instant::now());
                }
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, "Fleet lease failed.");
                    failed = true;
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            task.pool.lease_failed();
            task.pool.degrade(task.status.live(), Instant::now());
            task.fleet.do_send(RedisFailed);
        }
    }
}

/// Now in ms since the Unix epoch (heartbeat scores).
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
