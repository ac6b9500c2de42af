//! Pure text helpers behind the answer view: where a Markdown block ends in streamed text, how many
//! terminal rows printed text occupies, and stripping control characters from model output.

use termimad::StrFit;

/// The byte offset just past the first complete Markdown block of `text`, if one is complete.
///
/// A block ends at a blank line (which it includes), at the closing fence of a code block (included),
/// or just before a code fence that follows other text. Leading blank lines belong to the block. Only
/// whole lines count: a block never ends inside a line still being streamed.
pub fn block_end(text: &str) -> Option<usize> {
    let mut fence: Option<char> = None;
    let mut has_content = false;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') {
            return None;
        }
        let start = pos;
        pos += line.len();
        let trimmed = line.trim();
        if let Some(marker) = fence {
            if fence_marker(trimmed) == Some(marker) && trimmed.chars().all(|c| c == marker) {
                return Some(pos);
            }
        } else if let Some(marker) = fence_marker(trimmed) {
            if has_content {
                return Some(start);
            }
            fence = Some(marker);
            has_content = true;
        } else if trimmed.is_empty() {
            if has_content {
                return Some(pos);
            }
        } else {
            has_content = true;
        }
    }
    None
}

/// `` ` `` or `~` if the line opens or closes a fenced code block.
fn fence_marker(trimmed: &str) -> Option<char> {
    ['`', '~']
        .into_iter()
        .find(|&c| trimmed.chars().take(3).filter(|&x| x == c).count() == 3)
}

/// A block split into (blank lines before, the Markdown, blank lines after).
pub fn split_blank_edges(block: &str) -> (usize, &str, usize) {
    let lines: Vec<&str> = block.split_inclusive('\n').collect();
    let blank = |line: &&&str| line.trim().is_empty();
    let leading = lines.iter().take_while(blank).count();
    if leading == lines.len() {
        return (leading, "", 0);
    }
    let trailing = lines.iter().rev().take_while(blank).count();
    let start: usize = lines[..leading].iter().map(|l| l.len()).sum();
    let end = block.len()
        - lines[lines.len() - trailing..]
            .iter()
            .map(|l| l.len())
            .sum::<usize>();
    (leading, &block[start..end], trailing)
}

/// Terminal rows `text` occupies when printed from column 0 of a `cols`-wide terminal that wraps
/// long lines (the cursor ends on the last of them).
pub fn rows(text: &str, cols: usize) -> usize {
    let cols = cols.max(1);
    text.split('\n')
        .map(|line| {
            let (mut rows, mut col) = (1, 0);
            for c in line.chars() {
                let width = char_width(c);
                // A wide character that does not fit moves whole to the next row.
                if col + width > cols {
                    rows += 1;
                    col = width;
                } else {
                    col += width;
                }
            }
            rows
        })
        .sum()
}

fn char_width(c: char) -> usize {
    let mut buf = [0; 4];
    StrFit::count_fitting(c.encode_utf8(&mut buf), usize::MAX).1
}

/// Model text made safe to echo: tabs become two spaces, other control characters (escape sequences,
/// carriage returns) are dropped; newlines stay.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("  "),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_end_at_a_blank_line() {
        assert_eq!(block_end("Hello"), None);
        assert_eq!(block_end("Hello\nworld\n"), None);
        assert_eq!(block_end("Hello\n\nNext"), Some(7));
        assert_eq!(block_end("\n\n# Title\nText\n \nMore"), Some(17));
    }

    #[test]
    fn code_blocks_end_at_their_closing_fence() {
        let text = "```rust\nfn main() {\n\n}\n```\nAfter";
        assert_eq!(block_end(text), Some(text.len() - "After".len()));
        assert_eq!(block_end("```\nopen\n\n"), None);
        assert_eq!(block_end("~~~\nx\n```\n~~~\n"), Some(14));
        assert_eq!(block_end("Look:\n```sh\nls\n"), Some(6));
    }

    #[test]
    fn splits_blank_edges() {
        assert_eq!(split_blank_edges("\nPara\ntwo\n\n"), (1, "Para\ntwo\n", 1));
        assert_eq!(
            split_blank_edges("```\ncode\n```\n"),
            (0, "```\ncode\n```\n", 0)
        );
        assert_eq!(split_blank_edges("\n \n"), (2, "", 0));
    }

    #[test]
    fn counts_wrapped_rows() {
        assert_eq!(rows("", 10), 1);
        assert_eq!(rows("abc\n", 10), 2);
        assert_eq!(rows("0123456789", 10), 1);
        assert_eq!(rows("0123456789a", 10), 2);
        assert_eq!(rows("012345678日本", 10), 2);
        assert_eq!(rows("a\n\nb", 10), 3);
    }

    #[test]
    fn sanitizes_control_characters() {
        assert_eq!(sanitize("a\tb\r\n\x1b[2Jc"), "a  b\n[2Jc");
    }
}
