//! Uploaded photos: checked by decoding, stored under the media directory with
//! a name we choose, and served with a content type fixed by that name.

use crate::error::AppError;
use std::{
    io::Cursor,
    path::{Path, PathBuf},
};

/// Photos wider or taller than this are refused before decoding.
const MAX_DIMENSION: u32 = 12_000;

#[derive(Clone, Debug)]
pub struct MediaStore {
    dir: PathBuf,
}

/// A photo that decoded as one of the accepted formats.
#[derive(Debug)]
pub struct CheckedPhoto {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
}

impl MediaStore {
    pub async fn open(dir: PathBuf) -> std::io::Result<Self> {
        tokio::fs::create_dir_all(&dir).await?;
        Ok(MediaStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores the photo under a fresh random name and returns that name.
    pub async fn save(&self, photo: &CheckedPhoto) -> Result<String, AppError> {
        let name = format!("{}.{}", uuid::Uuid::new_v4().simple(), photo.extension);
        tokio::fs::write(self.dir.join(&name), &photo.bytes)
            .await
            .map_err(|error| {
                tracing::error!(%error, "could not store photo");
                AppError::Internal
            })?;
        Ok(name)
    }

    /// Removes a stored photo; a photo already gone is not an error.
    pub async fn delete(&self, name: &str) {
        if !is_media_name(name) {
            return;
        }
        if let Err(error) = tokio::fs::remove_file(self.dir.join(name)).await {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(%error, name, "could not remove photo");
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

/// `check_photo` on a blocking thread. The outer error is ours; the inner one is the user's message.
pub async fn check_photo_off_thread(
    bytes: Vec<u8>,
) -> Result<Result<CheckedPhoto, String>, AppError> {
    tokio::task::spawn_blocking(move || check_photo(bytes))
        .await
        .map_err(|error| {
            tracing::error!(%error, "photo check task failed");
            AppError::Internal
        })
}

/// Decides the type by content and decodes the whole image (CPU-heavy: call off the runtime).
pub fn check_photo(bytes: Vec<u8>) -> Result<CheckedPhoto, String> {
    const NOT_AN_IMAGE: &str = "The photo must be a JPEG, PNG or WebP image.";
    let reader = image::ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|_| NOT_AN_IMAGE.to_owned())?;
    let extension = match reader.format() {
        Some(image::ImageFormat::Jpeg) => "jpg",
        Some(image::ImageFormat::Png) => "png",
        Some(image::ImageFormat::WebP) => "webp",
        _ => return Err(NOT_AN_IMAGE.into()),
    };
    let (width, height) = reader
        .into_dimensions()
        .map_err(|_| "The photo could not be read; it may be damaged.".to_owned())?;
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(format!(
            "The photo is too large: at most {MAX_DIMENSION} pixels wide and tall."
        ));
    }
    let mut reader = image::ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|_| NOT_AN_IMAGE.to_owned())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|_| "The photo could not be read; it may be damaged.".to_owned())?;
    Ok(CheckedPhoto { bytes, extension })
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
    fn accepts_jpeg_png_and_webp_by_content() {
        assert_eq!(
            check_photo(encoded(image::ImageFormat::Jpeg))
                .unwrap()
                .extension,
            "jpg"
        );
        assert_eq!(
            check_photo(encoded(image::ImageFormat::Png))
                .unwrap()
                .extension,
            "png"
        );
        assert_eq!(
            check_photo(encoded(image::ImageFormat::WebP))
                .unwrap()
                .extension,
            "webp"
        );
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
