//! What a stand's uploaded file may be: its type is read from its first bytes (the
//! client's claim is never trusted), and only kinds a browser shows without running
//! anything are let in.

use serde::{Deserialize, Serialize};

/// The file types a stand can hold. SVG is not among them: it can carry script, and
/// sanitising it is a project of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Png,
    Jpeg,
    Webp,
    Gif,
    Pdf,
}

impl FileKind {
    pub const ALL: [FileKind; 5] = [
        FileKind::Png,
        FileKind::Jpeg,
        FileKind::Webp,
        FileKind::Gif,
        FileKind::Pdf,
    ];

    /// The kind `bytes` are, by their magic number; `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        let starts = |magic: &[u8]| bytes.starts_with(magic);
        if starts(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if starts(b"\xff\xd8\xff") {
            Some(FileKind::Jpeg)
        } else if starts(b"GIF87a") || starts(b"GIF89a") {
            Some(FileKind::Gif)
        } else if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else if starts(b"%PDF-") {
            Some(FileKind::Pdf)
        } else {
            None
        }
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Webp => "image/webp",
            FileKind::Gif => "image/gif",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// The extension a download is named with.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Webp => "webp",
            FileKind::Gif => "gif",
            FileKind::Pdf => "pdf",
        }
    }

    pub fn parse(name: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.extension() == name)
    }

    pub fn is_image(self) -> bool {
        self != FileKind::Pdf
    }
}

/// A file name fit for a `Content-Disposition` header: the client's name reduced to
/// `[A-Za-z0-9._-]` (at most 80 characters), with the extension of its real kind.
pub fn download_name(client_name: &str, kind: FileKind) -> String {
    let stem = client_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .rsplit_once('.')
        .map_or(client_name, |(stem, _)| stem);
    let mut safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    safe = safe.trim_matches('-').to_owned();
    if safe.is_empty() {
        safe = "bestand".to_owned();
    }
    format!("{safe}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_read_from_the_bytes() {
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(FileKind::Png)
        );
        assert_eq!(FileKind::sniff(b"\xff\xd8\xff\xe0"), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"GIF89a..."), Some(FileKind::Gif));
        assert_eq!(
            FileKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(FileKind::Webp)
        );
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        for refused in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<!DOCTYPE html><script>",
            b"RIFF\0\0\0\0WAVE",
            b"\x89PN",
            b"",
        ] {
            assert_eq!(FileKind::sniff(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn download_names_are_safe_and_carry_the_real_extension() {
        assert_eq!(
            download_name("Routekaart 2022.pdf", FileKind::Pdf),
            "Routekaart-2022.pdf"
        );
        assert_eq!(
            download_name("../../etc/\"evil\".html", FileKind::Png),
            "evil.png"
        );
        assert_eq!(download_name("", FileKind::Gif), "bestand.gif");
        assert_eq!(download_name("é\r\n", FileKind::Jpeg), "bestand.jpg");
        assert!(download_name(&"x".repeat(500), FileKind::Pdf).len() <= 84);
    }
}
