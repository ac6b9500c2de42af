//! A byte-fed Server-Sent Events decoder: buffers partial lines and yields one `Frame` per blank-line
//! terminated event, whatever the chunking of the body.

/// One SSE event: its `event:` name (empty if none) and its `data:` lines joined with `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// The `event:` field.
    pub event: String,
    /// The `data:` field(s).
    pub data: String,
}

/// Incremental decoder; feed it body chunks in order.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of an incomplete line.
    partial: Vec<u8>,
    /// The event being assembled.
    current: Frame,
    /// Whether `current` has seen a `data:` line.
    has_data: bool,
}

impl SseDecoder {
    /// Feeds one chunk and returns the frames it completes.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Frame> {
        self.partial.extend_from_slice(chunk);
        let mut frames = Vec::new();
        while let Some(newline) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=newline).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if let Some(frame) = self.on_line(line) {
                frames.push(frame);
            }
        }
        frames
    }

    fn on_line(&mut self, line: &str) -> Option<Frame> {
        if line.is_empty() {
            let frame = std::mem::take(&mut self.current);
            return std::mem::take(&mut self.has_data).then_some(frame);
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => value.clone_into(&mut self.current.event),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            // Comments (`: ping`), `id:`, `retry:` and unknown fields carry nothing we use.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "event: response.created\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: response.output_text.delta\r\ndata: {\"delta\":\"hé\"}\r\n\r\ndata: [DONE]\n\n";

    fn expected() -> Vec<Frame> {
        vec![
            Frame {
                event: "response.created".into(),
                data: "{\"a\":1}".into(),
            },
            Frame {
                event: "response.output_text.delta".into(),
                data: "{\"delta\":\"hé\"}".into(),
            },
            Frame {
                event: String::new(),
                data: "[DONE]".into(),
            },
        ]
    }

    #[test]
    fn decodes_a_whole_body() {
        assert_eq!(SseDecoder::default().feed(BODY.as_bytes()), expected());
    }

    #[test]
    fn decodes_byte_by_byte_and_at_every_split() {
        let bytes = BODY.as_bytes();
        let mut decoder = SseDecoder::default();
        let frames: Vec<Frame> = bytes.iter().flat_map(|b| decoder.feed(&[*b])).collect();
        assert_eq!(frames, expected());
        for split in 0..bytes.len() {
            let mut decoder = SseDecoder::default();
            let mut frames = decoder.feed(&bytes[..split]);
            frames.extend(decoder.feed(&bytes[split..]));
            assert_eq!(frames, expected(), "split at {split}");
        }
    }

    #[test]
    fn joins_multi_line_data() {
        let frames = SseDecoder::default().feed(b"data: one\ndata:two\n\n");
        assert_eq!(frames[0].data, "one\ntwo");
    }
}
