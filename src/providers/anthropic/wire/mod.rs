//! Anthropic Messages wire types (ours, provider-prefixed): the request we send in `request`,
//! and the response, stream event and error bodies we read in `reply`.

mod reply;
mod request;

pub use reply::*;
pub use request::*;
