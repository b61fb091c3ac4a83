//! The web client, embedded in the binary at build time, served with ETags
//! and a Content-Security-Policy that keeps every page to this server.
//! Every `/e/...` path gets `index.html`: the client routes itself.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// What the client's pages may load: only this server's own files, images
/// made in the page (`data:`, `blob:`: QR codes, export previews) and
/// connections back to this server (`'self'` covers its `ws:`/`wss:` in
/// CSP 3). Whatever a participant manages to get rendered, a presence
/// colour of `url(http://…)` say, makes no request elsewhere. The client
/// needs no inline script or style sheet (it sets styles through the
/// CSSOM, which `style-src` does not govern).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'";

#[derive(RustEmbed)]
#[folder = "../web/dist"]
struct WebDist;

/// Serves an embedded file, or the app shell for client-side routes.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path == "e" || path.starts_with("e/") {
        "index.html"
    } else {
        path
    };
    let Some(file) = WebDist::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Revalidate every time: file names carry no hash, and the ETag makes an
    // unchanged file a 304.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
