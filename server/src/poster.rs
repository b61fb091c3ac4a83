//! The droomproces poster image: an upload checked by its first bytes (PNG, JPEG or WebP,
//! at most `MAX_POSTER_IMAGE_BYTES`), the event file's image, and the uploaded file
//! ([`POSTER_FILE`], mode 0600) read back at start. The HTTP side is `http::poster`.

use std::path::{Path as FsPath, PathBuf};

use axum::body::Bytes;
use werktafel_shared::poster::{ImageKind, MAX_POSTER_IMAGE_BYTES};

/// The uploaded poster's file name in the data directory.
pub const POSTER_FILE: &str = "poster.img";

/// A poster image whose first bytes were checked.
#[derive(Debug, Clone)]
pub struct PosterImage {
    pub kind: ImageKind,
    pub bytes: Bytes,
}

/// Why bytes are not a poster.
#[derive(Debug, thiserror::Error)]
pub enum PosterRefusal {
    #[error("a poster image is at most {MAX_POSTER_IMAGE_BYTES} bytes")]
    TooLarge,
    #[error("a poster image is a PNG, JPEG or WebP file")]
    NotAnImage,
}

impl PosterImage {
    /// A short name for the image's bytes (the first 8 bytes of its
    /// SHA-256, in hex): boards load `poster?v={tag}`, a new address per
    /// image, so no cached picture stands in for a new one.
    pub fn tag(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(&self.bytes)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks `bytes` by size and by their first bytes.
    pub fn check(bytes: Bytes) -> Result<PosterImage, PosterRefusal> {
        if bytes.len() > MAX_POSTER_IMAGE_BYTES {
            return Err(PosterRefusal::TooLarge);
        }
        let kind = ImageKind::sniff(&bytes).ok_or(PosterRefusal::NotAnImage)?;
        Ok(PosterImage { kind, bytes })
    }

    /// Reads and checks the image the event file names (`poster`, relative to the event file).
    pub fn from_event_file(
        event_file: &FsPath,
        poster: &str,
    ) -> Result<PosterImage, PosterFileError> {
        let path = event_file
            .parent()
            .unwrap_or_else(|| FsPath::new("."))
            .join(poster);
        let bytes = std::fs::read(&path).map_err(|source| PosterFileError::Read {
            path: path.clone(),
            source,
        })?;
        PosterImage::check(Bytes::from(bytes))
            .map_err(|refusal| PosterFileError::Refused { path, refusal })
    }

    /// The poster uploaded earlier into `data_dir`, if there is one that still passes the check.
    pub fn load_uploaded(data_dir: &FsPath) -> Option<PosterImage> {
        let bytes = std::fs::read(data_dir.join(POSTER_FILE)).ok()?;
        PosterImage::check(Bytes::from(bytes)).ok()
    }
}

/// Why the image an event file names cannot be the poster.
#[derive(Debug, thiserror::Error)]
pub enum PosterFileError {
    #[error("reading the poster image {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the poster image {}: {refusal}", path.display())]
    Refused {
        path: PathBuf,
        refusal: PosterRefusal,
    },
}
