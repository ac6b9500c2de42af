//! Server-Sent Events: a byte-fed decoder that works for any chunking and LF/CRLF/CR line ends,
//! and the encoder for the gateway's own frames.

use bytes::{BufMut, BytesMut};

use crate::api::StreamEvent;

/// One decoded SSE event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field (empty when absent).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Incremental SSE decoder: feed bytes, get complete events.
#[derive(Debug)]
pub struct SseDecoder {
    buffer: Vec<u8>,
    event: String,
    data: Vec<String>,
    /// Bytes of `data` (what the event being read holds so far).
    data_bytes: usize,
    has_data: bool,
    skip_lf: bool,
    /// Bound on one event (its buffered line plus its data so far).
    limit: usize,
}

/// Default bound on one event, so a peer cannot grow memory without limit.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// The decoder met an event larger than its bound.
#[derive(Debug, thiserror::Error)]
#[error("an SSE event exceeds {limit} bytes")]
pub struct EventTooLarge {
    /// The bound.
    pub limit: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    /// A fresh decoder with the default bound per event.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh decoder refusing any event larger than `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            buffer: Vec::new(),
            event: String::new(),
            data: Vec::new(),
            data_bytes: 0,
            has_data: false,
            skip_lf: false,
            limit,
        }
    }

    fn too_large(&self, more: usize) -> bool {
        self.data_bytes + self.buffer.len() + more > self.limit
    }

    /// Feeds a chunk; returns every event completed by it.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, EventTooLarge> {
        let limit = EventTooLarge { limit: self.limit };
        let mut events = Vec::new();
        let mut rest = chunk;
        if self.skip_lf && !rest.is_empty() {
            // The previous chunk ended with CR: a leading LF completes that CRLF.
            self.skip_lf = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        // Whole lines are taken from the chunk in place; only a line cut by the chunk's end is
        // buffered (its buffer keeps its capacity for the next one).
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            if tail[0] == b'\r' {
                match rest.first() {
                    None => self.skip_lf = true,
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                }
            }
            if self.too_large(line.len()) {
                return Err(limit);
            }
            let event = if self.buffer.is_empty() {
                self.on_line(line)
            } else {
                let mut buffered = std::mem::take(&mut self.buffer);
                buffered.extend_from_slice(line);
                let event = self.on_line(&buffered);
                buffered.clear();
                self.buffer = buffered;
                event
            };
            events.extend(event);
        }
        if self.too_large(rest.len()) {
            return Err(limit);
        }
        self.buffer.extend_from_slice(rest);
        Ok(events)
    }

    /// Flushes an event left without a trailing blank line at end of stream.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let line = std::mem::take(&mut self.buffer);
        if !line.is_empty() {
            let _ = self.on_line(&line);
        }
        self.dispatch()
    }

    fn on_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.first() == Some(&b':') {
            return None;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data_bytes += value.len() + 1;
                self.data.push(value.to_owned());
                self.has_data = true;
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        self.data_bytes = 0;
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        let data = if self.data.len() == 1 {
            self.data.pop().unwrap_or_default()
        } else {
            std::mem::take(&mut self.data).join("\n")
        };
        Some(SseEvent { event, data })
    }
}

/// Appends one event as a complete SSE frame, `event: <type>\ndata: <json>\n\n`, to `out` (the
/// JSON is written in place: no intermediate strings).
pub fn write_event(event: &StreamEvent, out: &mut BytesMut) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(event.event_type().as_bytes());
    out.extend_from_slice(b"\ndata: ");
    let start = out.len();
    if serde_json::to_writer(out.writer(), event).is_err() {
        out.truncate(start);
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
}

/// The terminal frame.
pub const DONE_FRAME: &[u8] = b"data: [DONE]\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "event: a\ndata: {\"x\":1}\n\n: comment\r\ndata: line1\r\ndata: line2\r\n\r\nevent: b\rdata: z\r\r";

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(decoder.feed(chunk).unwrap());
        }
        out.extend(decoder.finish());
        out
    }

    #[test]
    fn decodes_mixed_line_endings() {
        let events = decode_all(&[SAMPLE.as_bytes()]);
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event, "a");
        assert_eq!(events[1].data, "line1\nline2");
        assert_eq!(events[2].event, "b");
        assert_eq!(events[2].data, "z");
    }

    #[test]
    fn any_chunking_gives_the_same_events() {
        let whole = decode_all(&[SAMPLE.as_bytes()]);
        let bytes: Vec<&[u8]> = SAMPLE.as_bytes().chunks(1).collect();
        assert_eq!(decode_all(&bytes), whole);
        for split in 1..SAMPLE.len() {
            let (a, b) = SAMPLE.as_bytes().split_at(split);
            assert_eq!(decode_all(&[a, b]), whole, "split at {split}");
        }
    }

    #[test]
    fn a_line_longer_than_the_bound_is_refused_however_it_arrives() {
        let long = vec![b'x'; 1001];
        assert!(SseDecoder::with_limit(1000).feed(&long).is_err());
        let mut cut = SseDecoder::with_limit(1000);
        let (a, b) = long.split_at(10);
        assert!(cut.feed(a).unwrap().is_empty());
        assert!(cut.feed(b).is_err());
        let mut whole_line = long;
        whole_line.push(b'\n');
        assert!(SseDecoder::with_limit(1000).feed(&whole_line).is_err());
    }

    #[test]
    fn an_event_of_many_small_data_lines_is_bounded_too() {
        let mut decoder = SseDecoder::with_limit(1000);
        let line = format!("data: {}\n", "y".repeat(90));
        let mut fed = Ok(Vec::new());
        for _ in 0..20 {
            fed = decoder.feed(line.as_bytes());
            if fed.is_err() {
                break;
            }
        }
        assert!(fed.is_err(), "20 lines of 90 bytes pass a 1000-byte bound");
        // Events under the bound, one after another, are fine.
        let mut decoder = SseDecoder::with_limit(1000);
        for _ in 0..100 {
            let events = decoder.feed(format!("{line}\n").as_bytes()).unwrap();
            assert_eq!(events.len(), 1);
        }
    }

    #[test]
    fn unterminated_last_event_is_flushed() {
        let events = decode_all(&[b"data: tail"]);
        assert_eq!(
            events,
            vec![SseEvent {
                event: String::new(),
                data: "tail".into()
            }]
        );
    }
}
