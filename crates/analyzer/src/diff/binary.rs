//! `GIT binary patch` data: zlib inflation bounded by the declared size, and git's delta
//! format.
//!
//! A binary patch carries one or two blocks (forward, then optionally reverse). Each block is
//! `literal N` (the whole file) or `delta N` (instructions against the other side), followed
//! by base85 lines holding a zlib stream whose inflated size must be exactly `N`. Attackers
//! control `N` and the stream, so nothing is allocated from `N` up front: output grows as the
//! stream really produces bytes, and stops at the limit.

use flate2::{Decompress, FlushDecompress, Status};
use thiserror::Error;

use super::Limits;
use crate::change::{BinaryData, FileChange};

/// Why a git delta could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeltaError {
    #[error("the delta ends early at byte {offset}; the binary patch is truncated or corrupt")]
    Truncated { offset: usize },
    #[error(
        "the delta was made against a {expected}-byte base but the base given has {actual} bytes; \
         pass the file's content at the patch's base commit"
    )]
    BaseSizeMismatch { expected: u64, actual: usize },
    #[error(
        "the delta produces {size} bytes, over the {limit}-byte binary limit; raise \
         max_binary_bytes to decode it"
    )]
    TargetTooLarge { size: u64, limit: usize },
    #[error(
        "copy instruction at byte {offset} reads {size} bytes at {copy_offset}, outside the \
         {base_len}-byte base"
    )]
    CopyOutOfRange {
        offset: usize,
        copy_offset: u64,
        size: u64,
        base_len: usize,
    },
    #[error("reserved instruction 0x00 at byte {offset}; the delta is corrupt")]
    ReservedOpcode { offset: usize },
    #[error("the delta writes past its declared {expected}-byte result at byte {offset}")]
    Overflow { offset: usize, expected: u64 },
    #[error("the delta produced {actual} bytes but declared {expected}")]
    TargetSizeMismatch { expected: u64, actual: usize },
}

/// Inflate a zlib stream that must produce exactly `size` bytes, refusing to produce more
/// than `limit` bytes. The error is a reason for [`BinaryData::Unreadable`].
pub(crate) fn inflate_exact(data: &[u8], size: u64, limit: usize) -> Result<Vec<u8>, String> {
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= limit)
        .ok_or_else(|| format!("declared size {size} exceeds the {limit}-byte binary limit"))?;
    let mut inflater = Decompress::new(true);
    // Start small and grow with real output: the declared size is attacker-controlled.
    let mut out: Vec<u8> = Vec::with_capacity(size.min(64 * 1024) + 1);
    loop {
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or_default();
        let before = (inflater.total_in(), inflater.total_out());
        if out.len() == out.capacity() {
            // One byte beyond `size` is enough to detect an over-long stream.
            let want = (out.capacity() * 2).min(size + 1);
            if want <= out.len() {
                return Err(format!("inflates to more than the declared {size} bytes"));
            }
            out.reserve_exact(want - out.len());
        }
        // `None`, not `Finish`: miniz_oxide treats `Finish` on the first call as a one-shot
        // inflate into the given buffer and fails the stream for good ("deflate
        // decompression error" on the next call) when the output does not fit it, which is
        // every literal over the initial 64 KiB buffer. The whole input is given each time,
        // so `None` loses nothing; a truncated stream shows as a call without progress.
        let status = inflater
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| format!("zlib data is corrupt: {e}"))?;
        if out.len() > size {
            return Err(format!("inflates to more than the declared {size} bytes"));
        }
        match status {
            Status::StreamEnd => break,
            Status::Ok | Status::BufError => {
                let after = (inflater.total_in(), inflater.total_out());
                if after == before && out.len() < out.capacity() {
                    return Err("zlib data ends before the end of the stream".to_owned());
                }
            }
        }
    }
    if out.len() != size {
        return Err(format!(
            "inflates to {} bytes but the patch declared {size}",
            out.len()
        ));
    }
    Ok(out)
}

/// Read a git varint (7 bits per byte, least significant first).
fn varint(delta: &[u8], pos: &mut usize) -> Result<u64, DeltaError> {
    let mut value: u64 = 0;
    let mut shift = 0u32;
    loop {
        let &b = delta
            .get(*pos)
            .ok_or(DeltaError::Truncated { offset: *pos })?;
        *pos += 1;
        if shift < 64 {
            value |= u64::from(b & 0x7f) << shift;
        }
        shift += 7;
        if b & 0x80 == 0 {
            return Ok(value);
        }
        if shift > 70 {
            // Longer than any u64: treat as corrupt rather than loop over junk.
            return Err(DeltaError::Truncated { offset: *pos });
        }
    }
}

/// Apply a git delta (as stored in a `delta N` block of a binary patch, or in a pack) to
/// `base`, producing the new content.
///
/// The format is two varints (base size, result size) followed by instructions: a byte
/// with the high bit set copies a range of the base (its low bits say which offset and
/// size bytes follow; size 0 means 0x10000), a byte `1..=127` inserts that many literal
/// bytes, and `0` is reserved. Every range is checked; the result may not exceed
/// `limits.max_binary_bytes`.
pub fn apply_delta(base: &[u8], delta: &[u8], limits: &Limits) -> Result<Vec<u8>, DeltaError> {
    let mut pos = 0usize;
    let base_size = varint(delta, &mut pos)?;
    if usize::try_from(base_size).ok() != Some(base.len()) {
        return Err(DeltaError::BaseSizeMismatch {
            expected: base_size,
            actual: base.len(),
        });
    }
    let target_size = varint(delta, &mut pos)?;
    let target = usize::try_from(target_size)
        .ok()
        .filter(|&t| t <= limits.max_binary_bytes)
        .ok_or(DeltaError::TargetTooLarge {
            size: target_size,
            limit: limits.max_binary_bytes,
        })?;
    let mut out: Vec<u8> = Vec::with_capacity(target.min(1 << 20));
    while let Some(&cmd) = delta.get(pos) {
        let op_offset = pos;
        pos += 1;
        if cmd & 0x80 != 0 {
            let mut fields = [0u64; 2];
            // Bits 0-3: offset bytes; bits 4-6: size bytes, little-endian, present if set.
            for bit in 0..7u32 {
                if cmd & (1 << bit) != 0 {
                    let &b = delta
                        .get(pos)
                        .ok_or(DeltaError::Truncated { offset: pos })?;
                    pos += 1;
                    let (field, shift) = if bit < 4 {
                        (0, bit * 8)
                    } else {
                        (1, (bit - 4) * 8)
                    };
                    if let Some(f) = fields.get_mut(field) {
                        *f |= u64::from(b) << shift;
                    }
                }
            }
            let [copy_offset, mut size] = fields;
            if size == 0 {
                size = 0x10000;
            }
            let range = usize::try_from(copy_offset)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(o, s)| Some(o..o.checked_add(s)?))
                .and_then(|r| base.get(r))
                .ok_or(DeltaError::CopyOutOfRange {
                    offset: op_offset,
                    copy_offset,
                    size,
                    base_len: base.len(),
                })?;
            if out.len() + range.len() > target {
                return Err(DeltaError::Overflow {
                    offset: op_offset,
                    expected: target_size,
                });
            }
            out.extend_from_slice(range);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            let data = delta
                .get(pos..pos + n)
                .ok_or(DeltaError::Truncated { offset: pos })?;
            if out.len() + n > target {
                return Err(DeltaError::Overflow {
                    offset: op_offset,
                    expected: target_size,
                });
            }
            out.extend_from_slice(data);
            pos += n;
        } else {
            return Err(DeltaError::ReservedOpcode { offset: op_offset });
        }
    }
    if out.len() != target {
        return Err(DeltaError::TargetSizeMismatch {
            expected: target_size,
            actual: out.len(),
        });
    }
    Ok(out)
}

/// Reconstruct the new content of a binary file whose forward patch is a delta, using the
/// known base in `file.before` (the CLI fills it from a local repository).
///
/// Returns `Ok(true)` when `binary.new_content` was set by this call, `Ok(false)` when there
/// was nothing to do (no binary patch, not a delta, content already known, or no base).
pub fn resolve_binary(file: &mut FileChange, limits: &Limits) -> Result<bool, DeltaError> {
    let Some(base) = file.before.as_deref() else {
        return Ok(false);
    };
    let Some(patch) = file.binary.as_mut() else {
        return Ok(false);
    };
    if patch.new_content.is_some() {
        return Ok(false);
    }
    let BinaryData::Delta { data } = &patch.forward else {
        return Ok(false);
    };
    let content = apply_delta(base, data, limits)?;
    patch.new_content = Some(content);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::change::{BinaryPatch, FileStatus};

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflation_must_match_the_declared_size() {
        let z = zlib(b"hello world");
        assert_eq!(inflate_exact(&z, 11, 100).unwrap(), b"hello world");
        assert!(
            inflate_exact(&z, 10, 100)
                .unwrap_err()
                .contains("more than")
        );
        assert!(inflate_exact(&z, 12, 100).unwrap_err().contains("11 bytes"));
        assert!(inflate_exact(&z, 11, 5).unwrap_err().contains("limit"));
        assert!(inflate_exact(&z[..z.len() - 3], 11, 100).is_err());
        assert!(inflate_exact(b"junk junk", 4, 100).is_err());
    }

    #[test]
    fn inflation_grows_past_the_first_buffer_up_to_the_declared_size() {
        // Over the 64 KiB first buffer, both highly compressible and incompressible.
        let text: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
        assert_eq!(inflate_exact(&zlib(&text), 200_000, 1 << 20).unwrap(), text);
        let noise: Vec<u8> = (0..300_000u64)
            .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 57) as u8 ^ (i as u8))
            .collect();
        let z = zlib(&noise);
        assert_eq!(inflate_exact(&z, 300_000, 1 << 20).unwrap(), noise);
        assert!(
            inflate_exact(&z, 300_000, 299_999)
                .unwrap_err()
                .contains("limit")
        );
        let err = inflate_exact(&z[..z.len() / 2], 300_000, 1 << 20).unwrap_err();
        assert!(err.contains("ends before"), "{err}");
    }

    #[test]
    fn a_zip_bomb_stops_at_the_declared_size() {
        let z = zlib(&vec![0u8; 8 << 20]);
        let err = inflate_exact(&z, 1000, 16 << 20).unwrap_err();
        assert!(err.contains("more than the declared 1000"), "{err}");
    }

    fn varint_bytes(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn copy_and_insert_instructions_rebuild_the_target() {
        let base = b"0123456789";
        let mut d = vec![];
        varint_bytes(10, &mut d);
        varint_bytes(7, &mut d);
        // copy offset 2, size 3 -> "234"
        d.extend_from_slice(&[0x80 | 0x01 | 0x10, 2, 3]);
        // insert "ab"
        d.extend_from_slice(&[2, b'a', b'b']);
        // copy offset 0 (no offset bytes), size 2 -> "01"
        d.extend_from_slice(&[0x80 | 0x10, 2]);
        assert_eq!(
            apply_delta(base, &d, &Limits::default()).unwrap(),
            b"234ab01"
        );
    }

    #[test]
    fn a_copy_of_size_zero_means_64_kib() {
        let base = vec![7u8; 0x10000];
        let mut d = vec![];
        varint_bytes(0x10000, &mut d);
        varint_bytes(0x10000, &mut d);
        d.push(0x80);
        assert_eq!(apply_delta(&base, &d, &Limits::default()).unwrap(), base);
    }

    #[test]
    fn hostile_deltas_are_rejected_not_obeyed() {
        let limits = Limits::default();
        let base = b"abc";
        let head = |target: u64| {
            let mut d = vec![];
            varint_bytes(3, &mut d);
            varint_bytes(target, &mut d);
            d
        };
        // Copy beyond the base.
        let mut d = head(2);
        d.extend_from_slice(&[0x80 | 0x01 | 0x10, 2, 2]);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::CopyOutOfRange { .. })
        ));
        // Offset near u64::MAX does not overflow.
        let mut d = head(2);
        d.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::CopyOutOfRange { .. })
        ));
        // Writing more than declared.
        let mut d = head(1);
        d.extend_from_slice(&[2, b'x', b'y']);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::Overflow { .. })
        ));
        // Less than declared.
        let mut d = head(5);
        d.extend_from_slice(&[1, b'x']);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::TargetSizeMismatch { .. })
        ));
        // Reserved opcode, truncated insert, wrong base, huge target, endless varint.
        let mut d = head(1);
        d.push(0);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::ReservedOpcode { .. })
        ));
        let mut d = head(4);
        d.extend_from_slice(&[4, b'x']);
        assert!(matches!(
            apply_delta(base, &d, &limits),
            Err(DeltaError::Truncated { .. })
        ));
        assert!(matches!(
            apply_delta(b"abcd", &head(1), &limits),
            Err(DeltaError::BaseSizeMismatch { .. })
        ));
        assert!(matches!(
            apply_delta(base, &head(u64::MAX), &limits),
            Err(DeltaError::TargetTooLarge { .. })
        ));
        assert!(apply_delta(base, &[0xff; 40], &limits).is_err());
        assert!(apply_delta(base, &[], &limits).is_err());
    }

    #[test]
    fn resolving_a_binary_delta_uses_the_known_base() {
        let mut d = vec![];
        varint_bytes(3, &mut d);
        varint_bytes(4, &mut d);
        d.extend_from_slice(&[0x90, 3, 1, b'!']);
        let mut file = FileChange {
            old_path: Some("x.bin".into()),
            new_path: Some("x.bin".into()),
            status: FileStatus::Modified,
            similarity: None,
            old_mode: None,
            new_mode: None,
            hunks: vec![],
            binary: Some(BinaryPatch {
                forward: BinaryData::Delta { data: d },
                reverse: None,
                new_content: None,
            }),
            before: None,
            after: None,
            commit: None,
            invalid_utf8: false,
        };
        let limits = Limits::default();
        assert_eq!(resolve_binary(&mut file, &limits), Ok(false));
        file.before = Some(b"abc".to_vec());
        assert_eq!(resolve_binary(&mut file, &limits), Ok(true));
        assert_eq!(
            file.binary.as_ref().unwrap().new_content.as_deref(),
            Some(&b"abc!"[..])
        );
        assert_eq!(resolve_binary(&mut file, &limits), Ok(false));
    }
}
