//! Chunk stamps: the mock writes `~c<k>t<µs>~` (chunk index, wall-clock microseconds) into every
//! streamed text delta; [`Scanner`] finds them in any framing (provider SSE, Open Responses SSE,
//! HTTP chunking), across read boundaries, reporting each chunk index once.

use std::time::{SystemTime, UNIX_EPOCH};

/// Longest plausible marker; a partial candidate longer than this is dropped.
const MAX_MARKER: usize = 48;

/// Wall-clock microseconds since the Unix epoch (the same clock in every process on the host).
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// The text of chunk `k`, stamped now: ` ~c<k>t<µs>~` (plain ASCII, no JSON escaping needed).
pub fn stamp(k: usize) -> String {
    format!(" ~c{k}t{}~", now_micros())
}

/// One parse attempt at the start of a slice.
enum Parse {
    /// A marker `(k, µs)` and its length.
    Found(usize, u64, usize),
    /// The slice ends inside what may be a marker.
    Partial,
    /// Not a marker.
    Invalid,
}

fn digits(bytes: &[u8]) -> (u64, usize) {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let value = bytes[..len].iter().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    (value, len)
}

fn parse_at(bytes: &[u8]) -> Parse {
    // bytes starts with "~c".
    let rest = &bytes[2..];
    let (k, k_len) = digits(rest);
    let Some(&sep) = rest.get(k_len) else {
        return Parse::Partial;
    };
    if k_len == 0 || sep != b't' {
        return Parse::Invalid;
    }
    let rest = &rest[k_len + 1..];
    let (micros, m_len) = digits(rest);
    match rest.get(m_len) {
        None => Parse::Partial,
        Some(b'~') if m_len > 0 => {
            let k = usize::try_from(k).unwrap_or(usize::MAX);
            Parse::Found(k, micros, 2 + k_len + 1 + m_len + 1)
        }
        Some(_) => Parse::Invalid,
    }
}

/// Finds chunk markers in a byte stream fed piece by piece.
#[derive(Debug, Default)]
pub struct Scanner {
    carry: Vec<u8>,
    seen: Vec<bool>,
}

impl Scanner {
    /// A scanner expecting chunk indices below `expected` (others are ignored).
    pub fn new(expected: usize) -> Self {
        Self {
            carry: Vec::new(),
            seen: vec![false; expected],
        }
    }

    /// How many distinct chunks were seen.
    pub fn seen(&self) -> usize {
        self.seen.iter().filter(|s| **s).count()
    }

    /// Feeds bytes; returns the markers `(k, µs)` seen for the first time, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<(usize, u64)> {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(bytes);
        let mut found = Vec::new();
        let mut i = 0;
        while i + 1 < buf.len() {
            if buf[i] != b'~' || buf[i + 1] != b'c' {
                i += 1;
                continue;
            }
            match parse_at(&buf[i..]) {
                Parse::Found(k, micros, len) => {
                    if let Some(seen) = self.seen.get_mut(k)
                        && !*seen
                    {
                        *seen = true;
                        found.push((k, micros));
                    }
                    i += len;
                }
                Parse::Partial => {
                    if buf.len() - i <= MAX_MARKER {
                        self.carry = buf[i..].to_vec();
                    }
                    return found;
                }
                Parse::Invalid => i += 2,
            }
        }
        // A trailing '~' that no marker consumed may start the next one.
        if i < buf.len() && buf.last() == Some(&b'~') {
            self.carry = vec![b'~'];
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_once_across_any_split() {
        let text = format!(
            "data: {{\"delta\":\"{}\"}}\n\ndata: {{\"delta\":\"{}\"}}\n\ndone {} {}",
            " ~c0t123~", " ~c1t456~", "~c0t999~", "~cx ~c1t"
        );
        for split in 1..text.len() {
            let mut scanner = Scanner::new(2);
            let mut found = Vec::new();
            for piece in text.as_bytes().chunks(split) {
                found.extend(scanner.feed(piece));
            }
            assert_eq!(found, vec![(0, 123), (1, 456)], "split {split}");
            assert_eq!(scanner.seen(), 2);
        }
    }

    #[test]
    fn stamps_parse_back() {
        let mut scanner = Scanner::new(8);
        let found = scanner.feed(stamp(7).as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 7);
        assert!(found[0].1 > 1_600_000_000_000_000);
    }
}
