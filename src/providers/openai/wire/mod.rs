//! OpenAI Responses wire types (ours, provider-prefixed): the request we send in `request`, and
//! the response, stream event and error bodies we read in `reply`.
//! Reference: https://platform.openai.com/docs/api-reference/responses

mod reply;
mod request;

pub use reply::*;
pub use request::*;
