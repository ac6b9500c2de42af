//! The protocols spoken besides Open Responses over HTTP, each translated to and from
//! `Engine::create_response`: the OpenAI Chat Completions front door (`chat_completions`) and
//! WebSocket mode (`websocket`). Transport-free; the actix handlers live in `http`.

pub mod chat_completions;
pub mod websocket;
