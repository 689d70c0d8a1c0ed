//! Fuzz the diff parser and the git delta applier with arbitrary bytes.
//!
//! Invariants checked beyond "does not panic": every line span lies inside its hunk's text
//! on character boundaries and lines are in order (so `Hunk::line_index_at` works), and a
//! successful delta result never exceeds the binary limit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sx_analyzer::diff::{Limits, apply_delta, parse};

fuzz_target!(|data: &[u8]| {
    // Small limits so the fuzzer explores the limit paths too.
    let limits = Limits {
        max_line_bytes: 4096,
        max_files: 64,
        max_lines: 100_000,
        max_binary_bytes: 1 << 20,
        max_total_binary_bytes: 4 << 20,
        max_path_bytes: 256,
        max_notes: 32,
        ..Limits::default()
    };
    if let Ok(change) = parse(data, &limits) {
        assert!(change.files.len() <= limits.max_files);
        assert!(change.parse_notes.len() <= limits.max_notes + 1);
        for file in &change.files {
            for hunk in &file.hunks {
                let mut prev_end = 0u32;
                for (i, line) in hunk.lines.iter().enumerate() {
                    assert!(line.start >= prev_end && line.start <= line.end);
                    let text = hunk.text.get(line.start as usize..line.end as usize);
                    assert!(text.is_some(), "line span off a char boundary");
                    assert_eq!(hunk.text.as_bytes().get(line.end as usize), Some(&b'\n'));
                    assert_eq!(hunk.line_index_at(line.start as usize), Some(i));
                    prev_end = line.end + 1;
                }
                assert_eq!(prev_end as usize, hunk.text.len());
            }
            if let Some(c) = file.commit {
                assert!(c < change.commits.len());
            }
        }
    }
    // The same bytes as a delta against a fixed base, and against the input's first half.
    let base = b"the quick brown fox jumps over the lazy dog";
    if let Ok(out) = apply_delta(base, data, &limits) {
        assert!(out.len() <= limits.max_binary_bytes);
    }
    let (left, right) = data.split_at(data.len() / 2);
    let _ = apply_delta(left, right, &limits);
});
