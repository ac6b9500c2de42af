//! `RouterActor`: resolves a model name to an ordered list of candidate providers and drops
//! those whose breaker is open (as reported by the provider actors).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use actix::prelude::*;

/// One place to send a request: a provider instance and the upstream model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Provider instance name.
    pub provider: String,
    /// Model (or deployment) name to send upstream.
    pub model: String,
}

/// Why no candidate can be offered.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RouteError {
    /// No configured provider serves this model.
    #[error("{0}")]
    UnknownModel(String),
    /// Every candidate's breaker is open.
    #[error("all providers for this model are cooling down")]
    AllUnavailable {
        /// Until the first breaker half-opens.
        retry_after: Duration,
    },
}

/// The routing rules the router applies (pure, provided by the gateway from its config).
pub trait Resolve: Unpin + 'static {
    /// Ordered candidates for `model`, optionally pinned to a provider.
    fn resolve(&self, model: &str, pinned: Option<&str>) -> Result<Vec<Candidate>, RouteError>;
}

/// Resolves a model to candidates.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Vec<Candidate>, RouteError>")]
pub struct Route {
    /// The requested model.
    pub model: String,
    /// A pinned provider (`"provider"` field or `provider/model` name).
    pub pinned: Option<String>,
}

/// A provider's breaker opened (`open_until` set) or closed (`None`).
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct BreakerChanged {
    /// Provider instance name.
    pub provider: String,
    /// When the breaker half-opens.
    pub open_until: Option<Instant>,
}

/// The router actor.
pub struct RouterActor<R: Resolve> {
    rules: R,
    open_until: HashMap<String, Instant>,
}

impl<R: Resolve> RouterActor<R> {
    /// A router applying `rules`.
    pub fn new(rules: R) -> Self {
        Self {
            rules,
            open_until: HashMap::new(),
        }
    }
}

impl<R: Resolve> Actor for RouterActor<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
    }
}

impl<R: Resolve> Handler<Route> for RouterActor<R> {
    type Result = Result<Vec<Candidate>, RouteError>;

    fn handle(&mut self, msg: Route, _: &mut Self::Context) -> Self::Result {
        let candidates = self.rules.resolve(&msg.model, msg.pinned.as_deref())?;
        let now = Instant::now();
        let (healthy, cooling): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| {
            self.open_until
                .get(&c.provider)
                .is_none_or(|until| *until <= now)
        });
        if healthy.is_empty() {
            let retry_after = cooling
                .iter()
                .filter_map(|c| self.open_until.get(&c.provider))
                .map(|until| until.saturating_duration_since(now))
                .min()
                .unwrap_or(Duration::from_secs(1));
            return Err(RouteError::AllUnavailable { retry_after });
        }
        Ok(healthy)
    }
}

impl<R: Resolve> Handler<BreakerChanged> for RouterActor<R> {
    type Result = ();

    fn handle(&mut self, msg: BreakerChanged, _: &mut Self::Context) {
        match msg.open_until {
            Some(until) => self.open_until.insert(msg.provider, until),
            None => self.open_until.remove(&msg.provider),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TwoProviders;

    impl Resolve for TwoProviders {
        fn resolve(&self, model: &str, _: Option<&str>) -> Result<Vec<Candidate>, RouteError> {
            if model == "unknown" {
                return Err(RouteError::UnknownModel("no".into()));
            }
            Ok(["a", "b"]
                .iter()
                .map(|p| Candidate {
                    provider: (*p).into(),
                    model: model.into(),
                })
                .collect())
        }
    }

    fn route(model: &str) -> Route {
        Route {
            model: model.into(),
            pinned: None,
        }
    }

    #[actix_rt::test]
    async fn open_breakers_are_skipped() {
        let router = RouterActor::new(TwoProviders).start();
        let later = Instant::now() + Duration::from_secs(30);
        router
            .send(BreakerChanged {
                provider: "a".into(),
                open_until: Some(later),
            })
            .await
            .unwrap();
        let got = router.send(route("m")).await.unwrap().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].provider, "b");
        router
            .send(BreakerChanged {
                provider: "b".into(),
                open_until: Some(later),
            })
            .await
            .unwrap();
        let err = router.send(route("m")).await.unwrap().unwrap_err();
        assert!(matches!(err, RouteError::AllUnavailable { .. }));
        router
            .send(BreakerChanged {
                provider: "a".into(),
                open_until: None,
            })
            .await
            .unwrap();
        assert_eq!(
            router.send(route("m")).await.unwrap().unwrap()[0].provider,
            "a"
        );
    }

    #[actix_rt::test]
    async fn unknown_models_are_reported() {
        let router = RouterActor::new(TwoProviders).start();
        let err = router.send(route("unknown")).await.unwrap().unwrap_err();
        assert!(matches!(err, RouteError::UnknownModel(_)));
    }
}
