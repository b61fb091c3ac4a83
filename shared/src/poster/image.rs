//! What an uploaded poster image is, judged by its first bytes and never by the name or the
//! `Content-Type` the sender claims.

/// Largest poster image accepted, from the console or named in the event file.
pub const MAX_POSTER_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// The image formats a poster may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    /// The kind the bytes start like, or `None` for anything else (SVG included: it can
    /// carry script, and the built-in drawing is the only SVG poster).
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Some(ImageKind::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }
}
