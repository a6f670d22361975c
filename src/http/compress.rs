//! Compression of the answers the server renders itself: pages and API JSON.
//!
//! These are complete in memory before they are sent (pages render whole, JSON is
//! serialised whole), and each page carries its own CSP nonce, so every answer is
//! compressed afresh: the encoder's speed matters as much as its ratio. zstd is preferred
//! (Chrome, Edge and Firefox accept it) with one context per thread, then gzip, and
//! brotli only for clients that accept neither (see bench/README.md for the figures).
//! Kept over tower-http's `CompressionLayer` for these two types: its streaming
//! encoders, set up per answer, served `/cars` at under half the rate (measured).
//! Built assets are precompressed at build time (brotli 11) and served as they are.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, Response},
    middleware::Next,
};
use std::{cell::RefCell, io::Write};
use tower_http::compression::{
    predicate::{NotForContentType, Predicate},
    CompressionLayer, DefaultPredicate,
};

/// Below this, compressing saves less than the encoding header and the CPU cost.
const MIN_SIZE: usize = 1024;
/// Brotli quality 4: nginx's default for on-the-fly brotli, and tower-http's.
const BROTLI_QUALITY: i32 = 4;
/// gzip level 3: close to level 6's size on our pages in much less time.
const GZIP_LEVEL: u32 = 3;
/// zstd level 3 (its default): the same size as gzip 3 on our pages.
const ZSTD_LEVEL: i32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Zstd,
}

impl Encoding {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
            Encoding::Zstd => "zstd",
        })
    }
}

/// The encoding to answer in: zstd if the client names it, else gzip, else brotli, else
/// none. `;q=0` refuses a coding; `*` stands for gzip or brotli, not for zstd, which
/// older clients that send `*` may not decode.
fn preferred_encoding(headers: &HeaderMap) -> Option<Encoding> {
    let mut brotli = None;
    let mut gzip = None;
    let mut zstd = None;
    let mut any = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let accepted = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0));
            let slot = if name.eq_ignore_ascii_case("br") {
                &mut brotli
            } else if name.eq_ignore_ascii_case("gzip") {
                &mut gzip
            } else if name.eq_ignore_ascii_case("zstd") {
                &mut zstd
            } else if name == "*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(accepted);
        }
    }
    if zstd == Some(true) {
        Some(Encoding::Zstd)
    } else if gzip.or(any) == Some(true) {
        Some(Encoding::Gzip)
    } else if brotli.or(any) == Some(true) {
        Some(Encoding::Brotli)
    } else {
        None
    }
}

/// Pages and JSON: the types this server renders itself, whole.
const RENDERED: [&str; 2] = ["text/html", "application/json"];

fn is_rendered(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| RENDERED.iter().any(|r| t.starts_with(r)))
}

/// tower-http's streaming compression for everything else (static files not precompressed):
/// it leaves the rendered types to [`compress_rendered`].
pub fn streaming_layer() -> CompressionLayer<impl Predicate> {
    let [html, json] = RENDERED;
    CompressionLayer::new().compress_when(
        DefaultPredicate::new()
            .and(NotForContentType::const_new(html))
            .and(NotForContentType::const_new(json)),
    )
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        // The smallest window holding the whole answer (16 to 22 bits, brotli's range here).
        lgwin: (usize::BITS - data.len().leading_zeros()).clamp(16, 22) as i32,
        size_hint: data.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 4);
    let mut input = data;
    // Writing to a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(GZIP_LEVEL),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// zstd, with one compression context per thread kept between answers: setting one up
/// costs about a third of compressing a page. `None` if libzstd fails (out of memory).
fn zstd(data: &[u8]) -> Option<Vec<u8>> {
    thread_local! {
        static CONTEXT: RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { RefCell::new(None) };
    }
    let compressed = CONTEXT.with_borrow_mut(|context| {
        let mut compressor = match context.take() {
            Some(compressor) => compressor,
            None => zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
        };
        let compressed = compressor.compress(data);
        *context = Some(compressor);
        compressed
    });
    compressed
        .inspect_err(|error| tracing::error!(%error, "zstd compression"))
        .ok()
}

/// Compresses rendered answers for clients that accept it; everything else passes on.
pub async fn compress_rendered(request: Request, next: Next) -> Response<Body> {
    let encoding = preferred_encoding(request.headers());
    let head = request.method() == Method::HEAD;
    let response = next.run(request).await;
    if head
        || !is_rendered(response.headers())
        || response.headers().contains_key(header::CONTENT_ENCODING)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(encoding) = encoding else {
        return Response::from_parts(parts, body);
    };
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            // The handler's body failed mid-way; the client sees the connection end, as it would have.
            tracing::error!(%error, "reading a rendered answer to compress it");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if bytes.len() < MIN_SIZE {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let compressed = match encoding {
        Encoding::Brotli => brotli(&bytes),
        Encoding::Gzip => gzip(&bytes),
        Encoding::Zstd => match zstd(&bytes) {
            Some(compressed) => compressed,
            None => return Response::from_parts(parts, Body::from(bytes)),
        },
    };
    parts
        .headers
        .insert(header::CONTENT_ENCODING, encoding.header());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ACCEPT_RANGES);
    Response::from_parts(parts, Body::from(compressed))
}

#[cfg(test)]
mod tests {
    use super::{brotli, gzip, preferred_encoding, zstd, Encoding};
    use axum::http::{header, HeaderMap, HeaderValue};
    use std::io::Read;

    fn accepting(value: &str) -> Option<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        preferred_encoding(&headers)
    }

    #[test]
    fn the_client_picks_the_encoding() {
        assert_eq!(accepting("gzip, deflate, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(accepting("gzip, deflate, br"), Some(Encoding::Gzip));
        assert_eq!(accepting("zstd;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(accepting("ZSTD"), Some(Encoding::Zstd));
        assert_eq!(accepting("br"), Some(Encoding::Brotli));
        assert_eq!(accepting("br, gzip;q=0"), Some(Encoding::Brotli));
        assert_eq!(accepting("br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(accepting("BR ; q=1.0"), Some(Encoding::Brotli));
        assert_eq!(accepting("*"), Some(Encoding::Gzip));
        assert_eq!(accepting("*, gzip;q=0, br;q=0"), None);
        assert_eq!(accepting("*, gzip;q=0"), Some(Encoding::Brotli));
        assert_eq!(accepting("gzip;q=0, br;q=0"), None);
        assert_eq!(accepting("identity"), None);
        assert_eq!(accepting("deflate"), None);
        assert_eq!(preferred_encoding(&HeaderMap::new()), None);
    }

    #[test]
    fn compressed_answers_decode_to_the_original() {
        let page = "<li class=\"car\">2015 Toyota Corolla, 84,000 km</li>".repeat(400);
        let mut decoded = String::new();
        brotli::Decompressor::new(&brotli(page.as_bytes())[..], 4096)
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page);
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gzip(page.as_bytes())[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, page);
        assert!(brotli(page.as_bytes()).len() < page.len() / 10);
        // The thread's zstd context is kept between answers: each one still decodes whole,
        // a large one after a small one and a small one after a large one.
        let short = "<p>A 2019 Honda Civic, one owner.</p>".repeat(40);
        for text in [&page, &short, &page.repeat(30), &short] {
            let compressed = zstd(text.as_bytes()).unwrap();
            assert!(compressed.len() < text.len() / 4);
            assert_eq!(
                zstd::decode_all(&compressed[..]).unwrap(),
                text.as_bytes(),
                "{} bytes",
                text.len()
            );
        }
    }
}
