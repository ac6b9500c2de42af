//! The per-connection response cache: the most recent turns of one WebSocket connection
//! (including `store: false` ones), so continuation works without the conversation store, plus
//! the ids a failed continuation evicted (which must stay unknown on this connection).

use std::{collections::VecDeque, sync::Arc};

use crate::api::Item;

/// How many recent turns a connection remembers. Turns share their history through `Arc`s, so
/// a long chain costs its items once, not once per cached turn.
pub const MAX_CACHED_TURNS: usize = 16;

/// How many evicted ids a connection remembers.
const MAX_EVICTED: usize = 256;

/// What came before a turn's own input.
#[derive(Debug, Clone)]
pub enum Prefix {
    /// Nothing: the turn started a conversation.
    Empty,
    /// An earlier turn on this connection (its prefix, input and output).
    Turn(Arc<Turn>),
    /// A response in the conversation store that this connection has not seen: resolved
    /// through the store when needed (so its rules, such as expiry, apply).
    Stored(String),
}

/// One finished turn.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The conversation before this turn's input.
    pub prefix: Prefix,
    /// The items the client sent in this turn.
    pub input: Vec<Item>,
    /// The response's output items.
    pub output: Vec<Item>,
    /// Whether the conversation store also holds the response (`store` was not `false`).
    pub stored: bool,
}

impl Turn {
    /// The conversation up to and including this turn's output: what a continuation from it
    /// puts before its own new input. When the chain starts at a stored response, that
    /// response's id comes first; its history is the store's to resolve.
    pub fn context(&self) -> (Option<&str>, Vec<Item>) {
        let mut chain = vec![self];
        let mut base = None;
        let mut prefix = &self.prefix;
        loop {
            match prefix {
                Prefix::Empty => break,
                Prefix::Stored(id) => {
                    base = Some(id.as_str());
                    break;
                }
                Prefix::Turn(turn) => {
                    chain.push(turn);
                    prefix = &turn.prefix;
                }
            }
        }
        let mut items = Vec::new();
        for turn in chain.iter().rev() {
            items.extend(turn.input.iter().cloned());
            items.extend(turn.output.iter().cloned());
        }
        (base, items)
    }
}

/// Recent turns by response id, oldest first, plus evicted ids.
#[derive(Debug, Default)]
pub struct ConnectionCache {
    turns: VecDeque<(String, Arc<Turn>)>,
    evicted: VecDeque<String>,
}

impl ConnectionCache {
    /// The cached turn that produced `response_id`.
    pub fn get(&self, response_id: &str) -> Option<Arc<Turn>> {
        self.turns
            .iter()
            .find(|(id, _)| id == response_id)
            .map(|(_, turn)| turn.clone())
    }

    /// Whether a failed continuation evicted `response_id` on this connection.
    pub fn is_evicted(&self, response_id: &str) -> bool {
        self.evicted.iter().any(|id| id == response_id)
    }

    /// Remembers a finished turn, forgetting the oldest beyond [`MAX_CACHED_TURNS`].
    pub fn insert(&mut self, response_id: String, turn: Turn) {
        if self.turns.len() == MAX_CACHED_TURNS {
            self.turns.pop_front();
        }
        self.turns.push_back((response_id, Arc::new(turn)));
    }

    /// Forgets `response_id` for good on this connection (also for the conversation store).
    pub fn evict(&mut self, response_id: &str) {
        self.turns.retain(|(id, _)| id != response_id);
        if !self.is_evicted(response_id) {
            if self.evicted.len() == MAX_EVICTED {
                self.evicted.pop_front();
            }
            self.evicted.push_back(response_id.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(text: &str) -> Item {
        serde_json::from_value(json!({"type":"message","role":"user","content":text})).unwrap()
    }

    fn texts(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Message(m) => m.content.joined_text(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn context_walks_the_chain_from_its_base() {
        let first = Arc::new(Turn {
            prefix: Prefix::Stored("resp_s".into()),
            input: vec![message("a")],
            output: vec![message("A")],
            stored: false,
        });
        let second = Turn {
            prefix: Prefix::Turn(first),
            input: vec![message("b")],
            output: vec![message("B")],
            stored: false,
        };
        let (base, items) = second.context();
        assert_eq!(base, Some("resp_s"));
        assert_eq!(texts(&items), ["a", "A", "b", "B"]);
    }

    #[test]
    fn cache_is_bounded_and_eviction_sticks() {
        let mut cache = ConnectionCache::default();
        let turn = || Turn {
            prefix: Prefix::Empty,
            input: vec![message("x")],
            output: Vec::new(),
            stored: false,
        };
        for n in 0..=MAX_CACHED_TURNS {
            cache.insert(format!("resp_{n}"), turn());
        }
        assert!(
            cache.get("resp_0").is_none(),
            "the oldest turn is forgotten"
        );
        assert!(cache.get(&format!("resp_{MAX_CACHED_TURNS}")).is_some());
        cache.evict("resp_3");
        assert!(cache.get("resp_3").is_none());
        assert!(cache.is_evicted("resp_3"));
        cache.insert("resp_3".into(), turn());
        assert!(cache.is_evicted("resp_3"), "an evicted id stays evicted");
    }
}
