//! Uploaded photos: checked by decoding, stored under a name we choose in the photo
//! store, and served with a content type fixed by that name.
//!
//! The store is an [`ObjectStore`]: a local directory by default, or an S3-compatible
//! bucket (`S3_BUCKET`) that several app servers share.

use crate::{
    config::{Config, S3Config},
    error::AppError,
};
use axum::{
    extract::{Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path as StorePath, BackoffConfig,
    ClientOptions, ObjectStore, PutPayload, RetryConfig,
};
use std::{io::Cursor, path::PathBuf, sync::Arc, time::Duration};

pub mod renditions;
pub use renditions::{card_picture, files_of, picture};

/// Photos wider or taller than this are refused before decoding.
const MAX_DIMENSION: u32 = 12_000;

#[derive(Clone, Debug)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    /// The folder inside the store (S3_PREFIX); empty for a local directory.
    prefix: StorePath,
    /// Where the photos are, for logs: a directory or `s3://bucket/prefix`.
    location: String,
}

/// A photo that decoded as one of the accepted formats, re-encoded, with its sizes.
#[derive(Debug)]
pub struct CheckedPhoto {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
    /// Upright, as stored.
    pub width: u32,
    pub height: u32,
    /// What pages load (see [`renditions`]).
    pub renditions: Vec<renditions::Rendition>,
}

/// `abc.jpg` -> `abc-thumb.jpg`: the card's photo of photos stored before their sizes
/// were made (see [`renditions`]).
pub fn thumbnail_name(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}-thumb.{ext}"),
        None => format!("{name}-thumb"),
    }
}

impl MediaStore {
    /// The store the configuration names: S3 when `S3_BUCKET` is set, else `MEDIA_DIR`.
    pub async fn open(config: &Config) -> Result<Self, String> {
        match &config.s3 {
            Some(s3) => Self::s3(s3),
            None => Self::local(config.media_dir.clone()).await,
        }
    }

    pub async fn local(dir: PathBuf) -> Result<Self, String> {
        let failed =
            |e: &dyn std::fmt::Display| format!("cannot use MEDIA_DIR {}: {e}", dir.display());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| failed(&e))?;
        let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| failed(&e))?;
        Ok(MediaStore {
            store: Arc::new(store),
            prefix: StorePath::default(),
            location: dir.display().to_string(),
        })
    }

    pub fn s3(config: &S3Config) -> Result<Self, String> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            // A slow or absent store fails a request in seconds, not minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(30)),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|e| format!("cannot use S3 bucket {}: {e}", config.bucket))?;
        Ok(MediaStore {
            store: Arc::new(store),
            prefix: StorePath::from(config.prefix.as_str()),
            location: format!("s3://{}/{}", config.bucket, config.prefix),
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(&self, name: &str) -> StorePath {
        self.prefix.child(name)
    }

    /// Stores the photo and its sizes under a fresh random name and returns that name.
    pub async fn save(&self, photo: &CheckedPhoto) -> Result<String, AppError> {
        let name = format!("{}.{}", uuid::Uuid::new_v4().simple(), photo.extension);
        let failed = |error: object_store::Error| AppError::internal("storing a photo", error);
        let payload = |bytes: &[u8]| PutPayload::from(Bytes::copy_from_slice(bytes));
        if let Err(error) = self
            .store
            .put(&self.path(&name), payload(&photo.bytes))
            .await
        {
            return Err(failed(error));
        }
        if let Err(error) = self.save_renditions(&name, &photo.renditions).await {
            self.delete(&name).await;
            return Err(failed(error));
        }
        Ok(name)
    }

    /// Stores the sizes of the photo stored as `name`.
    async fn save_renditions(
        &self,
        name: &str,
        sizes: &[renditions::Rendition],
    ) -> Result<(), object_store::Error> {
        let payload = |bytes: &[u8]| PutPayload::from(Bytes::copy_from_slice(bytes));
        for size in sizes {
            for (webp, bytes) in [(false, &size.fallback), (true, &size.webp)] {
                let file = renditions::rendition_name(name, size.width, webp);
                self.store.put(&self.path(&file), payload(bytes)).await?;
            }
        }
        Ok(())
    }

    /// Makes the sizes of a photo stored before sizes existed, and returns its width and
    /// height; `Ok(None)` when the photo is not in the store or cannot be read (then
    /// nothing more can be made of it). Runs the decoding in its turn (see [`Decoders`]).
    pub async fn make_sizes(
        &self,
        name: &str,
        decoders: &Decoders,
    ) -> Result<Option<(u32, u32)>, AppError> {
        let Some(bytes) = self.get(name).await else {
            return Ok(None);
        };
        // Stored photos are our own re-encoded, upright, EXIF-free copies: decoding one
        // again gives the same pixels, and its sizes are made as for a new upload.
        let checked = match check_photo_off_thread(bytes.to_vec(), decoders).await? {
            Ok(checked) => checked,
            Err(message) => {
                tracing::warn!(
                    name,
                    message,
                    "a stored photo could not be read to make its sizes"
                );
                return Ok(None);
            }
        };
        self.save_renditions(name, &checked.renditions)
            .await
            .map_err(|e| AppError::internal("storing a photo's sizes", e))?;
        Ok(Some((checked.width, checked.height)))
    }

    /// A stored photo's bytes; `None` when there is no such photo (or the store fails,
    /// which is logged).
    pub async fn get(&self, name: &str) -> Option<Bytes> {
        if !is_media_name(name) {
            return None;
        }
        let found = match self.store.get(&self.path(name)).await {
            Ok(found) => found.bytes().await,
            Err(error) => Err(error),
        };
        match found {
            Ok(bytes) => Some(bytes),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(error) => {
                tracing::error!(%error, name, "could not read photo");
                None
            }
        }
    }

    /// True when the store accepts and removes a file (for /readyz).
    pub async fn is_writable(&self) -> bool {
        let probe = self.path("ready-probe");
        let ok = self.store.put(&probe, PutPayload::from_static(b"ok")).await;
        if let Err(error) = &ok {
            tracing::warn!(%error, location = self.location, "photo store not writable");
        }
        let _ = self.store.delete(&probe).await;
        ok.is_ok()
    }

    /// Removes a stored photo and its sizes; files already gone are not an error.
    pub async fn delete(&self, name: &str) {
        if !is_media_name(name) {
            return;
        }
        for file in files_of(name) {
            match self.store.delete(&self.path(&file)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => tracing::warn!(%error, file, "could not remove photo"),
            }
        }
    }
}

/// Only names this store creates: hex and one known extension. Keeps paths out of the media dir.
pub fn is_media_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && stem.len() <= 64
                && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && matches!(ext, "jpg" | "png" | "webp")
        }
        None => false,
    }
}

/// Content type for a stored photo's extension.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

/// Serves an uploaded photo with a content type fixed by its stored name.
pub async fn serve(State(media): State<MediaStore>, Path(name): Path<String>) -> Response {
    if !is_media_name(&name) {
        return (StatusCode::NOT_FOUND, "No such photo.").into_response();
    }
    let mut read = media.get(&name).await.map(|bytes| (bytes, name.clone()));
    if read.is_none() {
        // A size that is not made: the photo is narrower than it (cards ask for 320 and
        // 640 of every photo), or was stored before sizes existed. The photo itself instead,
        // with its own type (browsers go by the bytes, not the name).
        if let Some(stem) = renditions::photo_stem(&name) {
            for photo in [format!("{stem}.jpg"), format!("{stem}.png")] {
                if let Some(bytes) = media.get(&photo).await {
                    read = Some((bytes, photo));
                    break;
                }
            }
        }
    }
    match read {
        Some((bytes, file)) => (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "No such photo.").into_response(),
    }
}

/// Photos decoded at once, server-wide (decoding is CPU-bound: one per core of a small server).
pub const DECODE_SLOTS: usize = 2;
/// How long an upload waits for its turn before the server answers 503 (try again).
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
const MIB: u64 = 1024 * 1024;

/// Photo decoding, server-wide: at most [`DECODE_SLOTS`] at a time, and all of them
/// together within [`MAX_PIPELINE_BYTES`] of memory. Each photo reserves what its pipeline
/// needs, worked out from its header before any pixel is decoded: two ordinary photos
/// share the budget, a 48-megapixel one has it to itself.
#[derive(Clone, Debug)]
pub struct Decoders {
    slots: Arc<tokio::sync::Semaphore>,
    /// One permit per MiB.
    memory: Arc<tokio::sync::Semaphore>,
}

impl Default for Decoders {
    fn default() -> Self {
        Decoders {
            slots: Arc::new(tokio::sync::Semaphore::new(DECODE_SLOTS)),
            memory: Arc::new(tokio::sync::Semaphore::new(Self::BUDGET_MIB as usize)),
        }
    }
}

impl Decoders {
    const BUDGET_MIB: u32 = (MAX_PIPELINE_BYTES / MIB) as u32;

    /// The permits a pipeline of `bytes` reserves: its MiB, at least one, at most the budget.
    fn permits(bytes: u64) -> u32 {
        u32::try_from(bytes.div_ceil(MIB))
            .unwrap_or(u32::MAX)
            .clamp(1, Self::BUDGET_MIB)
    }
}

/// `check_photo` on a blocking thread, in its turn (see [`Decoders`]).
/// The outer error is ours (or "busy, try again"); the inner one is the user's message.
pub async fn check_photo_off_thread(
    bytes: Vec<u8>,
    decoders: &Decoders,
) -> Result<Result<CheckedPhoto, String>, AppError> {
    let task = |e| AppError::internal("the photo check task", e);
    // The header alone says what decoding will need (or why the photo is refused).
    let (bytes, needed) = tokio::task::spawn_blocking(move || {
        let needed = open(&bytes).map(|(_, needed)| needed);
        (bytes, needed)
    })
    .await
    .map_err(task)?;
    let needed = match needed {
        Ok(needed) => needed,
        Err(message) => return Ok(Err(message)),
    };
    let turn = async {
        let slot = decoders.slots.clone().acquire_owned().await?;
        let memory = decoders
            .memory
            .clone()
            .acquire_many_owned(Decoders::permits(needed))
            .await?;
        Ok::<_, tokio::sync::AcquireError>((slot, memory))
    };
    let turn = tokio::time::timeout(DECODE_WAIT, turn)
        .await
        .map_err(|_| {
            tracing::warn!("photo uploads waited too long for their turn to be decoded");
            AppError::Unavailable(
                "Many photos are being uploaded right now. Please try again in a few seconds."
                    .into(),
            )
        })?
        .map_err(|e| AppError::internal("waiting for a decoding slot", e))?;
    tokio::task::spawn_blocking(move || {
        let checked = check_photo(bytes);
        drop(turn);
        checked
    })
    .await
    .map_err(task)
}

/// Total pixels accepted (48 MP): refused from the header, before any pixel is decoded,
/// so a small file that claims a huge image (a decompression bomb) costs nothing.
const MAX_PIXELS: u64 = 48_000_000;
/// Stored photos are scaled down to this longest edge: plenty for a details page.
const MAX_STORED_EDGE: u32 = 2_560;
/// The most memory one photo's pipeline may need: a 48 MP photo at 8 bits per channel
/// with transparency, plus what is made from it. Deeper colour (16 bits per channel) at
/// that size would need twice as much and is refused before decoding.
pub const MAX_PIPELINE_BYTES: u64 = MAX_PIXELS * 4 + 64 * 1024 * 1024;

/// Bytes the pipeline holds at its peak for a `width` x `height` image decoding to
/// `decoded` bytes at `pixel_bytes` per pixel: the decoded image with the stored-size copy
/// made of it, or later that copy and its sizes, each converted to 8-bit RGB(A) to encode.
fn pipeline_bytes(width: u32, height: u32, decoded: u64, pixel_bytes: u64) -> u64 {
    let longest = u64::from(width.max(height)).max(1);
    let scale = |side: u32| {
        (u64::from(side) * u64::from(MAX_STORED_EDGE))
            .div_ceil(longest)
            .min(u64::from(side))
    };
    let (stored_width, stored_height) = (scale(width), scale(height));
    // The sizes, made of the upright photo: it may yet be turned, so whichever way up
    // needs more.
    let sizes_of = |across: u64, down: u64| -> u64 {
        renditions::WIDTHS
            .iter()
            .map(|w| u64::from(*w))
            .filter(|w| *w < across)
            .map(|w| w * (w * down).div_ceil(across.max(1)))
            .sum()
    };
    let sizes = sizes_of(stored_width, stored_height).max(sizes_of(stored_height, stored_width));
    let stored = stored_width * stored_height;
    // The decoded image is freed once the stored-size copy is made (`make_photo`); the
    // copy and its sizes are each converted to 8-bit RGB(A) to be encoded.
    (decoded + stored * pixel_bytes).max((stored + sizes) * (pixel_bytes + 4))
}

/// Checks an upload and makes the photo we store from it. The type is decided by
/// decoding, never by the name or the declared type. The pixels are re-encoded
/// (JPEG, or PNG when the photo has transparency), so nothing of the original file
/// survives: no EXIF (camera GPS position, serial numbers), no trailing payloads.
/// The EXIF orientation is applied (to the scaled-down copy), so the photo stays upright.
///
/// Memory is budgeted before any pixel is decoded: width x height x channels x bytes
/// per channel, plus the scaled copies, must fit in [`MAX_PIPELINE_BYTES`], and the
/// decoder is held to the same figure.
/// CPU-heavy: call it off the async runtime (`check_photo_off_thread`).
pub fn check_photo(bytes: Vec<u8>) -> Result<CheckedPhoto, String> {
    let (mut decoder, _) = open(&bytes)?;
    let orientation = image::ImageDecoder::orientation(&mut decoder)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let photo = image::DynamicImage::from_decoder(decoder).map_err(|error| match error {
        image::ImageError::Limits(_) => too_large(),
        _ => DAMAGED.to_owned(),
    })?;
    make_photo(photo, orientation)
}

// Each message follows the file's name ("IMG_2231.HEIC: this file type is ..."), or
// stands alone with a capital (`http::multipart::Upload::about`).
const NOT_AN_IMAGE: &str = "this file type is not supported — use JPEG, PNG or WebP.";
pub(crate) const DAMAGED: &str = "the photo could not be read; it may be damaged.";

fn too_large() -> String {
    format!(
        "the photo is too large: at most {MAX_DIMENSION} pixels wide and tall, and 48 megapixels."
    )
}

/// A decoder for an upload, and the bytes its pipeline will need at its peak, read from
/// the header alone: the type, the size and the memory are checked before any pixel is.
fn open(bytes: &[u8]) -> Result<(Box<dyn image::ImageDecoder + '_>, u64), String> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| NOT_AN_IMAGE.to_owned())?;
    if !matches!(
        reader.format(),
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP)
    ) {
        return Err(NOT_AN_IMAGE.into());
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIPELINE_BYTES);
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(|error| match error {
        image::ImageError::Limits(_) => too_large(),
        _ => DAMAGED.to_owned(),
    })?;
    let (width, height) = image::ImageDecoder::dimensions(&decoder);
    if width > MAX_DIMENSION
        || height > MAX_DIMENSION
        || u64::from(width) * u64::from(height) > MAX_PIXELS
    {
        return Err(too_large());
    }
    let pixel_bytes = u64::from(image::ImageDecoder::color_type(&decoder).bytes_per_pixel());
    let needed = pipeline_bytes(
        width,
        height,
        image::ImageDecoder::total_bytes(&decoder),
        pixel_bytes,
    );
    if needed > MAX_PIPELINE_BYTES {
        return Err(format!(
            "the photo needs too much memory to process ({} MB at {} bits per pixel). \
             Save it as an ordinary 8-bit JPEG or PNG, or at a smaller size, and try again.",
            needed.div_ceil(1024 * 1024),
            pixel_bytes * 8
        ));
    }
    Ok((Box::new(decoder), needed))
}

/// The stored copy and the sizes of a decoded photo, turned upright and re-encoded.
fn make_photo(
    photo: image::DynamicImage,
    orientation: image::metadata::Orientation,
) -> Result<CheckedPhoto, String> {
    // Scaled down first (the box is square, so turning first would give the same size):
    // only the small copy is turned, and the full-size image is freed as soon as possible.
    let mut photo = if photo.width().max(photo.height()) > MAX_STORED_EDGE {
        let stored = photo.thumbnail(MAX_STORED_EDGE, MAX_STORED_EDGE);
        // Shadowing would keep the full-size image alive until the end: free it now.
        drop(photo);
        stored
    } else {
        photo
    };
    photo.apply_orientation(orientation);
    let alpha = photo.color().has_alpha();
    Ok(CheckedPhoto {
        bytes: renditions::encode_fallback(&photo, alpha, 85)?,
        extension: if alpha { "png" } else { "jpg" },
        width: photo.width(),
        height: photo.height(),
        renditions: renditions::make(&photo)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(8, 6, image::Rgb([200, 30, 30]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn each_photo_reserves_its_memory_and_the_largest_takes_the_whole_budget() {
        assert_eq!(Decoders::permits(0), 1);
        assert_eq!(Decoders::permits(60 * MIB + 1), 61);
        assert_eq!(Decoders::permits(MAX_PIPELINE_BYTES), Decoders::BUDGET_MIB);
        assert_eq!(Decoders::permits(u64::MAX), Decoders::BUDGET_MIB);
        // 4000 x 3000 JPEGs (RGB), the common camera photo: one per slot fits the budget.
        let twelve_mp = pipeline_bytes(4_000, 3_000, 4_000 * 3_000 * 3, 3);
        assert!(
            Decoders::permits(twelve_mp) * DECODE_SLOTS as u32 <= Decoders::BUDGET_MIB,
            "{twelve_mp}"
        );
    }

    #[tokio::test]
    async fn a_photo_that_is_no_image_is_refused_without_waiting_for_a_turn() {
        let decoders = Decoders::default();
        // Every slot busy: a photo refused from its header alone is still answered at once.
        let _busy = decoders
            .slots
            .clone()
            .acquire_many_owned(DECODE_SLOTS as u32)
            .await;
        let answer = check_photo_off_thread(b"GIF89a not really".to_vec(), &decoders)
            .await
            .unwrap();
        assert!(answer.unwrap_err().contains("not supported"));
    }

    #[test]
    fn accepts_jpeg_png_and_webp_by_content_and_stores_a_fresh_jpeg() {
        for format in [
            image::ImageFormat::Jpeg,
            image::ImageFormat::Png,
            image::ImageFormat::WebP,
        ] {
            let photo = check_photo(encoded(format)).unwrap();
            assert_eq!(photo.extension, "jpg", "{format:?}");
            let stored = image::load_from_memory(&photo.bytes).unwrap();
            assert_eq!((stored.width(), stored.height()), (8, 6));
            assert_eq!((photo.width, photo.height), (8, 6));
            assert!(photo.renditions.is_empty(), "never enlarged");
        }
    }

    #[test]
    fn sizes_are_small_and_keep_the_shape() {
        let img = image::RgbImage::from_fn(2000, 1250, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 239) as u8])
        });
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let photo = check_photo(out.into_inner()).unwrap();
        assert_eq!((photo.width, photo.height), (2000, 1250));
        let card = &photo.renditions[1];
        let thumb = image::load_from_memory(&card.fallback).unwrap();
        assert_eq!((card.width, thumb.width(), thumb.height()), (640, 640, 400));
        assert!(card.fallback.len() * 4 < photo.bytes.len());
        assert!(card.webp.len() < card.fallback.len(), "WebP is the smaller");
        assert_eq!(thumbnail_name("ab12.jpg"), "ab12-thumb.jpg");
        assert!(is_media_name(&thumbnail_name("ab12.jpg")));
    }

    #[test]
    fn transparency_is_kept_as_png() {
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 0, 0]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        assert_eq!(check_photo(out.into_inner()).unwrap().extension, "png");
    }

    /// A JPEG with an EXIF block: orientation 6 (turn 90° clockwise) and a text tag
    /// standing in for GPS data.
    fn jpeg_with_exif(width: u32, height: u32, secret: &str) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        let jpeg = out.into_inner();
        let text = format!("{secret}\0");
        let mut tiff = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
        tiff.extend_from_slice(&2u16.to_le_bytes());
        // ImageDescription (0x010E), ASCII, pointing at the text after the IFD.
        tiff.extend_from_slice(&0x010Eu16.to_le_bytes());
        tiff.extend_from_slice(&2u16.to_le_bytes());
        tiff.extend_from_slice(&(text.len() as u32).to_le_bytes());
        tiff.extend_from_slice(&38u32.to_le_bytes());
        // Orientation (0x0112), SHORT, 6.
        tiff.extend_from_slice(&0x0112u16.to_le_bytes());
        tiff.extend_from_slice(&3u16.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&[6, 0, 0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(text.as_bytes());
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        with_exif.extend_from_slice(&app1);
        with_exif.extend_from_slice(&jpeg[2..]);
        with_exif
    }

    #[test]
    fn exif_is_stripped_after_its_orientation_is_applied() {
        let secret = "GPS 48.8584N 2.2945E";
        let upload = jpeg_with_exif(40, 20, secret);
        let contains =
            |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
        assert!(
            contains(&upload, secret.as_bytes()),
            "the fixture carries the text"
        );
        let stored = check_photo(upload).unwrap();
        assert!(!contains(&stored.bytes, secret.as_bytes()));
        assert!(!contains(&stored.bytes, b"Exif"));
        let img = image::load_from_memory(&stored.bytes).unwrap();
        assert_eq!((img.width(), img.height()), (20, 40), "turned upright");
    }

    /// One PNG chunk with its CRC-32, computed bit by bit (no extra crate for a test).
    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        let mut crc = 0xFFFF_FFFFu32;
        for byte in &body {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&(!crc).to_be_bytes());
        out
    }

    /// A tiny PNG whose header claims `width` x `height` pixels of `bit_depth` bits per
    /// channel in colour type `color` (2 = RGB, 6 = RGBA), with no real pixel data.
    fn png_claiming(width: u32, height: u32, bit_depth: u8, color: u8) -> Vec<u8> {
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[bit_depth, color, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &header));
        png.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        png.extend(png_chunk(b"IEND", &[]));
        png
    }

    #[test]
    fn huge_dimensions_are_refused_before_decoding() {
        // A 100-byte PNG that claims 20000 x 20000 pixels (1.2 GB decoded).
        let error = check_photo(png_claiming(20_000, 20_000, 8, 2)).unwrap_err();
        assert!(error.contains("too large"), "{error}");
    }

    #[test]
    fn deep_colour_that_would_not_fit_the_memory_budget_is_refused_before_decoding() {
        // The audit's photo: 6900 x 6900 (47.6 MP, under the pixel cap) at 16 bits per
        // channel with alpha would decode to 381 MB.
        let error = check_photo(png_claiming(6_900, 6_900, 16, 6)).unwrap_err();
        assert!(error.contains("too much memory"), "{error}");
        assert!(error.contains("64 bits per pixel"), "{error}");
        // The same size at 8 bits is an ordinary photo: it is read (and found empty here).
        let error = check_photo(png_claiming(6_900, 6_900, 8, 6)).unwrap_err();
        assert!(error.contains("damaged"), "{error}");
    }

    #[test]
    fn the_budget_takes_any_8_bit_photo_up_to_48_megapixels() {
        let fits = |w: u32, h: u32, pixel_bytes: u64| {
            let decoded = u64::from(w) * u64::from(h) * pixel_bytes;
            pipeline_bytes(w, h, decoded, pixel_bytes) <= MAX_PIPELINE_BYTES
        };
        assert!(fits(8_000, 6_000, 3), "48 MP RGB");
        assert!(fits(8_000, 6_000, 4), "48 MP RGBA");
        assert!(fits(12_000, 4_000, 4), "48 MP panorama");
        assert!(fits(4_000, 3_000, 6), "12 MP at 16 bits");
        assert!(!fits(8_000, 6_000, 6), "48 MP at 16 bits");
        assert!(!fits(6_900, 6_900, 8), "47.6 MP RGBA at 16 bits");
    }

    #[test]
    fn rejects_files_that_are_not_images_or_are_truncated() {
        assert!(check_photo(b"GIF89a not really".to_vec()).is_err());
        assert!(check_photo(b"<html>hello</html>".to_vec()).is_err());
        let mut png = encoded(image::ImageFormat::Png);
        png.truncate(png.len() / 2);
        assert!(check_photo(png).is_err());
    }

    #[test]
    fn media_names_cannot_escape_the_directory() {
        assert!(is_media_name("0123abcd.jpg"));
        for bad in [
            "../etc/passwd",
            "a/b.jpg",
            "x.svg",
            ".jpg",
            "a.jpg.html",
            "a..jpg",
        ] {
            assert!(!is_media_name(bad), "{bad}");
        }
        assert_eq!(content_type("a.webp"), "image/webp");
    }
}
