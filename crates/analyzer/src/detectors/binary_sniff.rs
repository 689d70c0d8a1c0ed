//! Shared inspection of binary content for the `binary-*` detectors (not a detector itself):
//! magic-byte sniffing, the formats a file extension promises, and byte entropy.
//!
//! Content comes from the decoded `GIT binary patch` literal (`BinaryPatch::new_content`) or,
//! for binary changes, from `FileChange::after`.

use crate::change::{BinaryData, FileChange, FileStatus};

/// A recognised file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Magic {
    Elf,
    Pe,
    MachO,
    Zip,
    Gzip,
    Xz,
    Lzma,
    Bzip2,
    SevenZip,
    Zstd,
    Tar,
    Png,
    Jpeg,
    Gif,
    Webp,
    Ico,
    Bmp,
    Pdf,
    Font,
    Wasm,
    Sqlite,
    JavaClass,
}

/// Broad families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Executable,
    Archive,
    Media,
    Other,
}

impl Magic {
    pub fn family(self) -> Family {
        use Magic::*;
        match self {
            Elf | Pe | MachO => Family::Executable,
            Zip | Gzip | Xz | Lzma | Bzip2 | SevenZip | Zstd | Tar => Family::Archive,
            Png | Jpeg | Gif | Webp | Ico | Bmp | Pdf | Font => Family::Media,
            Wasm | Sqlite | JavaClass => Family::Other,
        }
    }

    pub fn name(self) -> &'static str {
        use Magic::*;
        match self {
            Elf => "ELF executable",
            Pe => "Windows PE executable",
            MachO => "Mach-O executable",
            Zip => "zip archive",
            Gzip => "gzip data",
            Xz => "xz data",
            Lzma => "lzma data",
            Bzip2 => "bzip2 data",
            SevenZip => "7z archive",
            Zstd => "zstd data",
            Tar => "tar archive",
            Png => "PNG image",
            Jpeg => "JPEG image",
            Gif => "GIF image",
            Webp => "WebP image",
            Ico => "ICO image",
            Bmp => "BMP image",
            Pdf => "PDF document",
            Font => "font",
            Wasm => "WebAssembly module",
            Sqlite => "SQLite database",
            JavaClass => "Java class file",
        }
    }
}

/// Recognise a format from the first bytes.
pub fn sniff(b: &[u8]) -> Option<Magic> {
    use Magic::*;
    let at = |i: usize, m: &[u8]| b.get(i..i + m.len()) == Some(m);
    Some(if at(0, b"\x7fELF") {
        Elf
    } else if at(0, b"MZ") {
        Pe
    } else if at(0, &[0xfe, 0xed, 0xfa, 0xce])
        || at(0, &[0xfe, 0xed, 0xfa, 0xcf])
        || at(0, &[0xce, 0xfa, 0xed, 0xfe])
        || at(0, &[0xcf, 0xfa, 0xed, 0xfe])
    {
        MachO
    } else if at(0, &[0xca, 0xfe, 0xba, 0xbe]) {
        // Fat Mach-O and Java class files share a magic; a fat header's next word is a small
        // architecture count, a class file's is its version (>= 45).
        match b.get(4..8) {
            Some(w) if u32::from_be_bytes([w[0], w[1], w[2], w[3]]) < 40 => MachO,
            _ => JavaClass,
        }
    } else if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        Zip
    } else if at(0, &[0x1f, 0x8b]) {
        Gzip
    } else if at(0, &[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Xz
    } else if at(0, &[0x5d, 0x00, 0x00]) {
        Lzma
    } else if at(0, b"BZh") {
        Bzip2
    } else if at(0, &[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        SevenZip
    } else if at(0, &[0x28, 0xb5, 0x2f, 0xfd]) {
        Zstd
    } else if at(257, b"ustar") {
        Tar
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Png
    } else if at(0, &[0xff, 0xd8, 0xff]) {
        Jpeg
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Gif
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Webp
    } else if at(0, &[0, 0, 1, 0]) {
        Ico
    } else if at(0, b"BM") && b.len() > 14 {
        Bmp
    } else if at(0, b"%PDF") {
        Pdf
    } else if at(0, b"wOFF") || at(0, b"wOF2") || at(0, b"OTTO") || at(0, &[0, 1, 0, 0, 0]) {
        Font
    } else if at(0, b"\0asm") {
        Wasm
    } else if at(0, b"SQLite format 3\0") {
        Sqlite
    } else {
        return None;
    })
}

/// Formats an extension promises; `None` when the extension says nothing we check.
pub fn expected(ext: &str) -> Option<&'static [Magic]> {
    use Magic::*;
    Some(match ext {
        "png" => &[Png],
        "jpg" | "jpeg" => &[Jpeg],
        "gif" => &[Gif],
        "webp" => &[Webp],
        "ico" => &[Ico, Png],
        "bmp" => &[Bmp],
        "pdf" => &[Pdf],
        "woff" | "woff2" | "ttf" | "otf" => &[Font],
        "zip" | "jar" | "whl" | "apk" | "nupkg" | "docx" | "xlsx" | "pptx" | "odt" | "epub"
        | "vsix" => &[Zip],
        "gz" | "tgz" => &[Gzip],
        "xz" | "txz" => &[Xz],
        "lzma" => &[Lzma, Xz],
        "bz2" => &[Bzip2],
        "7z" => &[SevenZip],
        "zst" => &[Zstd],
        "tar" => &[Tar],
        "wasm" => &[Wasm],
        "class" => &[JavaClass],
        "exe" | "dll" | "sys" => &[Pe],
        "so" | "o" => &[Elf],
        "dylib" => &[MachO],
        _ => return None,
    })
}

/// Extensions of text formats: binary content under these names is a disguise.
pub const TEXT_EXTS: &[&str] = &[
    "txt", "md", "rst", "json", "yml", "yaml", "toml", "xml", "html", "css", "csv", "ini", "cfg",
    "conf", "svg", "rs", "py", "js", "ts", "go", "c", "h", "cpp", "java", "rb", "php", "sh", "m4",
    "am", "ac", "in",
];

/// The lower-case extension of a path's file name.
pub fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// Shannon entropy in bits per byte over at most the first 64 KiB.
pub fn entropy(b: &[u8]) -> f64 {
    let b = b.get(..b.len().min(64 << 10)).unwrap_or(b);
    if b.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &x in b {
        counts[x as usize] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The new content of a binary change, when the change carries it.
pub fn new_bytes(file: &FileChange) -> Option<&[u8]> {
    if file.status == FileStatus::Deleted {
        return None;
    }
    let bin = file.binary.as_ref()?;
    bin.new_content
        .as_deref()
        .or(match &bin.forward {
            BinaryData::Literal { data } => Some(data.as_slice()),
            _ => None,
        })
        .or(file.after.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_magics_are_recognised() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), Some(Magic::Elf));
        assert_eq!(
            sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4]),
            Some(Magic::Xz)
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Magic::Png));
        assert_eq!(
            sniff(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2]),
            Some(Magic::MachO)
        );
        assert_eq!(
            sniff(&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52]),
            Some(Magic::JavaClass)
        );
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn uniform_bytes_have_high_entropy_and_text_low() {
        let all: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        assert!((entropy(&all) - 8.0).abs() < 1e-9);
        assert!(entropy(b"aaaaaaaabbbb") < 1.0);
    }

    #[test]
    fn extensions_are_read_from_the_file_name_only() {
        assert_eq!(extension("tests/files/bad-3-corrupt_lzma2.xz"), "xz");
        assert_eq!(extension("dir.d/Makefile"), "");
        assert_eq!(extension(".gitignore"), "");
    }
}
