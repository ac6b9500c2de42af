//! The ways in besides `POST /v1/responses`, each reduced to `Gateway::create_response`:
//! WebSocket mode (`websocket`), `POST /v1/responses/compact` (`compact`) and the OpenAI Chat
//! Completions front door (`chat`). Transport-free; the actix handlers live in `http`.

pub mod chat;
pub mod compact;
pub mod websocket;
