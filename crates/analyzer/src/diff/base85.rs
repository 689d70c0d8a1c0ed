//! Git's base85 encoding, as used by `GIT binary patch` lines.
//!
//! Each line starts with a length character (`A`–`Z` = 1–26 bytes, `a`–`z` = 27–52) and
//! continues with groups of five characters, each group encoding four bytes big-endian in
//! git's alphabet (not Ascii85's). The last group is padded; the length character says how
//! many of its bytes are real.

use thiserror::Error;

const ALPHABET: &[u8; 85] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/// Reverse table: byte → digit value + 1 (0 = not in the alphabet).
const DECODE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 85 {
        t[ALPHABET[i] as usize] = i as u8 + 1;
        i += 1;
    }
    t
};

/// Why a base85 line could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Base85Error {
    #[error("the line does not start with a length character A-Z or a-z")]
    BadLength,
    #[error("the line has {found} characters after its length character, expected {expected}")]
    WrongLineLength { expected: usize, found: usize },
    #[error("byte {byte:#04x} at column {column} is not in git's base85 alphabet")]
    BadCharacter { byte: u8, column: usize },
    #[error("the group at column {column} overflows 32 bits")]
    Overflow { column: usize },
}

/// Decode one `GIT binary patch` data line (without its newline), appending the bytes to
/// `out`.
pub fn decode_line(line: &[u8], out: &mut Vec<u8>) -> Result<(), Base85Error> {
    let (&len_char, data) = line.split_first().ok_or(Base85Error::BadLength)?;
    let len = match len_char {
        b'A'..=b'Z' => usize::from(len_char - b'A') + 1,
        b'a'..=b'z' => usize::from(len_char - b'a') + 27,
        _ => return Err(Base85Error::BadLength),
    };
    let expected = len.div_ceil(4) * 5;
    if data.len() != expected {
        return Err(Base85Error::WrongLineLength {
            expected,
            found: data.len(),
        });
    }
    let mut remaining = len;
    for (g, group) in data.chunks_exact(5).enumerate() {
        let mut acc: u32 = 0;
        for (k, &c) in group.iter().enumerate() {
            let column = 1 + g * 5 + k;
            let digit = DECODE[usize::from(c)];
            if digit == 0 {
                return Err(Base85Error::BadCharacter { byte: c, column });
            }
            acc = acc
                .checked_mul(85)
                .and_then(|v| v.checked_add(u32::from(digit - 1)))
                .ok_or(Base85Error::Overflow { column })?;
        }
        let bytes = acc.to_be_bytes();
        let take = remaining.min(4);
        out.extend_from_slice(bytes.get(..take).unwrap_or_default());
        remaining -= take;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) fn encode_line(data: &[u8]) -> Vec<u8> {
    assert!((1..=52).contains(&data.len()));
    let mut out = vec![if data.len() <= 26 {
        b'A' + data.len() as u8 - 1
    } else {
        b'a' + data.len() as u8 - 27
    }];
    for chunk in data.chunks(4) {
        let mut buf = [0u8; 4];
        buf[..chunk.len()].copy_from_slice(chunk);
        let mut acc = u32::from_be_bytes(buf);
        let mut group = [0u8; 5];
        for slot in group.iter_mut().rev() {
            *slot = ALPHABET[(acc % 85) as usize];
            acc /= 85;
        }
        out.extend_from_slice(&group);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(line: &[u8]) -> Result<Vec<u8>, Base85Error> {
        let mut out = vec![];
        decode_line(line, &mut out).map(|()| out)
    }

    #[test]
    fn known_vectors_from_git_decode() {
        // `literal 0` body as written by git: zlib's encoding of the empty string.
        assert_eq!(
            decode(b"HcmV?d00001").unwrap(),
            [0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        );
        // Four zero bytes are "00000"; 0xffffffff is the largest group, "|NsC0".
        assert_eq!(decode(b"D00000").unwrap(), [0, 0, 0, 0]);
        assert_eq!(decode(b"D|NsC0").unwrap(), [0xff; 4]);
        assert_eq!(decode(b"A|NsC0").unwrap(), [0xff]);
    }

    #[test]
    fn encoding_round_trips_every_length() {
        for len in 1..=52usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let line = encode_line(&data);
            assert_eq!(decode(&line).unwrap(), data, "length {len}");
        }
    }

    #[test]
    fn malformed_lines_are_rejected_with_a_reason() {
        assert_eq!(decode(b""), Err(Base85Error::BadLength));
        assert_eq!(decode(b"1abcde"), Err(Base85Error::BadLength));
        assert_eq!(
            decode(b"D0000"),
            Err(Base85Error::WrongLineLength {
                expected: 5,
                found: 4
            })
        );
        assert_eq!(
            decode(b"D0000\""),
            Err(Base85Error::BadCharacter {
                byte: b'"',
                column: 5
            })
        );
        assert_eq!(decode(b"D~~~~~"), Err(Base85Error::Overflow { column: 5 }));
    }
}
