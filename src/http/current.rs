//! The `Current` extractor: the engine (configuration, providers, routes) a request runs on,
//! taken once when it starts, so a reload never changes it mid-request.

use std::{ops::Deref, sync::Arc};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::{
    engine::{Engine, reload::EngineHandle},
    error::GatewayError,
};

/// The engine current when the request started.
pub struct Current(pub Arc<Engine>);

impl Current {
    /// The engine current for `req` (`None` outside the App).
    pub fn of(req: &HttpRequest) -> Option<Arc<Engine>> {
        req.app_data::<web::Data<EngineHandle>>()
            .map(|handle| handle.current())
    }
}

impl Deref for Current {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.0
    }
}

impl FromRequest for Current {
    type Error = GatewayError;
    type Future = std::future::Ready<Result<Self, GatewayError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            Self::of(req)
                .map(Current)
                .ok_or_else(|| GatewayError::Internal("no gateway in app data".to_owned())),
        )
    }
}
