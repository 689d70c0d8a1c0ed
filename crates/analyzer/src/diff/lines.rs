//! Splitting the input into lines without copying.
//!
//! The reader hands out borrowed slices of the input: the line's content without its `\n`
//! and without a trailing `\r` (remembered in [`RawLine::crlf`]), cut to the line-length
//! limit at a character boundary. Scanning uses `memchr`, so a single 100 MB line costs one
//! linear pass and never more memory than the limit.

/// One line of the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawLine<'a> {
    /// Content without `\n`, without a trailing `\r`, at most `max_line_bytes` long.
    pub bytes: &'a [u8],
    /// Offset of `bytes` in the input (used to slice the pre-validated UTF-8 input).
    pub offset: usize,
    /// 1-based line number.
    pub number: usize,
    /// The line ended in `\r\n` (or `\r` at end of input).
    pub crlf: bool,
    /// The line was longer than the limit and `bytes` holds only its beginning.
    pub truncated: bool,
}

impl RawLine<'_> {
    /// Whether the line is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(|b| b.is_ascii_whitespace())
    }
}

/// A cursor over the lines of the input.
#[derive(Debug)]
pub(crate) struct LineReader<'a> {
    input: &'a [u8],
    /// Offset of the next line's first byte.
    pos: usize,
    /// Number of the line most recently returned (0 before the first).
    number: usize,
    max_line: usize,
}

impl<'a> LineReader<'a> {
    pub fn new(input: &'a [u8], max_line: usize) -> Self {
        Self {
            input,
            pos: 0,
            number: 0,
            max_line: max_line.max(1),
        }
    }

    /// Number of the line most recently returned by [`next`](Self::next).
    pub fn line_number(&self) -> usize {
        self.number
    }

    fn scan(&self) -> Option<(RawLine<'a>, usize)> {
        let rest = self.input.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (full_len, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (i, self.pos + i + 1),
            None => (rest.len(), self.input.len()),
        };
        let full = rest.get(..full_len).unwrap_or_default();
        let (content, crlf) = match full.split_last() {
            Some((b'\r', head)) => (head, true),
            _ => (full, false),
        };
        let (bytes, truncated) = if content.len() > self.max_line {
            (cut_at_char_boundary(content, self.max_line), true)
        } else {
            (content, false)
        };
        Some((
            RawLine {
                bytes,
                offset: self.pos,
                number: self.number + 1,
                crlf,
                truncated,
            },
            next,
        ))
    }

    /// Bytes of input not yet returned: a hard bound on what the rest of a hunk can hold,
    /// whatever its header claims.
    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// The next line without consuming it.
    pub fn peek(&self) -> Option<RawLine<'a>> {
        self.scan().map(|(line, _)| line)
    }

    /// The next line.
    pub fn next_line(&mut self) -> Option<RawLine<'a>> {
        let (line, next) = self.scan()?;
        self.pos = next;
        self.number = line.number;
        Some(line)
    }

    /// Give back a line obtained from [`next_line`](Self::next_line) so the next call
    /// returns it again. Only the most recent line may be given back.
    pub fn unread(&mut self, line: &RawLine<'a>) {
        self.pos = line.offset;
        self.number = line.number.saturating_sub(1);
    }
}

/// The longest prefix of `bytes` of at most `max` bytes that does not split a UTF-8
/// sequence (so cutting a valid line keeps it valid).
fn cut_at_char_boundary(bytes: &[u8], max: usize) -> &[u8] {
    let mut end = max.min(bytes.len());
    // Back off over at most three continuation bytes; beyond that the data is not UTF-8
    // anyway and any cut is as good as another.
    let mut steps = 0;
    while end > 0 && steps < 4 && matches!(bytes.get(end), Some(b) if b & 0xC0 == 0x80) {
        end -= 1;
        steps += 1;
    }
    bytes.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(Vec<u8>, usize, bool, bool)> {
        let mut r = LineReader::new(input, max);
        let mut out = vec![];
        while let Some(l) = r.next_line() {
            out.push((l.bytes.to_vec(), l.number, l.crlf, l.truncated));
        }
        out
    }

    #[test]
    fn lines_are_split_on_newlines_with_crlf_remembered() {
        let got = all(b"a\r\nb\n\nc", 100);
        assert_eq!(
            got,
            vec![
                (b"a".to_vec(), 1, true, false),
                (b"b".to_vec(), 2, false, false),
                (b"".to_vec(), 3, false, false),
                (b"c".to_vec(), 4, false, false),
            ]
        );
    }

    #[test]
    fn over_long_lines_are_cut_at_a_character_boundary() {
        let got = all("ab\u{e9}cd\nx\n".as_bytes(), 3);
        assert_eq!(got[0], (b"ab".to_vec(), 1, false, true));
        assert_eq!(got[1], (b"x".to_vec(), 2, false, false));
    }

    #[test]
    fn a_line_can_be_given_back_and_read_again() {
        let mut r = LineReader::new(b"one\ntwo\n", 10);
        let one = r.next_line().unwrap();
        let two = r.next_line().unwrap();
        assert_eq!(two.bytes, b"two");
        r.unread(&two);
        assert_eq!(r.line_number(), 1);
        assert_eq!(r.next_line().unwrap().number, 2);
        assert_eq!(one.number, 1);
        assert!(r.next_line().is_none());
        assert_eq!(r.peek().map(|l| l.number), None);
    }
}
