//! The sizes every photo is kept in, made once when it is uploaded: 320, 640 and 1280 pixels
//! wide (a phone's card, a desk's card or a phone's details page, a desk's details page),
//! each in WebP and in the photo's own format, beside the stored photo itself (at most
//! 2,560 pixels, for the full-screen view). A size is only made when it is smaller than
//! the photo: nothing is enlarged.
//!
//! Names: `ab12.jpg` is the photo, `ab12-640w.webp` and `ab12-640w.jpg` one of its sizes.
//! Photos stored before sizes existed have `ab12-thumb.jpg` (640 pixels on the longest
//! side) until [`super::backfill`] makes their sizes.

use crate::ui::Picture;
use std::io::Cursor;

/// The widths made of every photo wider than them.
pub const WIDTHS: [u32; 3] = [320, 640, 1280];
/// JPEG quality of the sizes (the stored photo is 85): the eye sees no difference at these sizes.
const JPEG_QUALITY: u8 = 78;
/// WebP quality: about a third smaller than the JPEG for the same look.
const WEBP_QUALITY: f32 = 72.0;

/// One size of a photo, encoded twice.
#[derive(Debug)]
pub struct Rendition {
    pub width: u32,
    /// In the stored photo's format (JPEG, or PNG when it has transparency).
    pub fallback: Vec<u8>,
    pub webp: Vec<u8>,
}

/// `ab12.jpg`, 640, webp -> `ab12-640w.webp`; without webp -> `ab12-640w.jpg`.
pub fn rendition_name(name: &str, width: u32, webp: bool) -> String {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "jpg"));
    let ext = if webp { "webp" } else { ext };
    format!("{stem}-{width}w.{ext}")
}

/// The widths made of a photo `width` pixels wide.
pub fn widths_for(width: u32) -> impl Iterator<Item = u32> {
    WIDTHS.into_iter().filter(move |w| *w < width)
}

/// `ab12-640w.webp` -> `ab12`, the stem of the photo it is a size of (also for
/// `ab12-thumb.jpg`); `None` for a photo's own name.
pub fn photo_stem(name: &str) -> Option<&str> {
    let (stem, _) = name.rsplit_once('.')?;
    let (photo, size) = stem.rsplit_once('-')?;
    let is_size = size == "thumb"
        || size
            .strip_suffix('w')
            .is_some_and(|w| WIDTHS.iter().any(|known| known.to_string() == w));
    is_size.then_some(photo)
}

/// Every file a stored photo may have: the photo, each size in both formats, and the
/// thumbnail of photos stored before sizes existed.
pub fn files_of(name: &str) -> Vec<String> {
    let mut files = vec![name.to_owned(), super::thumbnail_name(name)];
    for width in WIDTHS {
        files.push(rendition_name(name, width, false));
        files.push(rendition_name(name, width, true));
    }
    files
}

/// The sizes of the photo stored as `name`, `width` x `height` pixels (0 x 0 when its
/// sizes are not made yet: then the photo itself, shown 4:3).
pub fn picture(name: &str, width: u32, height: u32, url: impl Fn(&str) -> String) -> Picture {
    if width == 0 || height == 0 {
        return Picture {
            src: url(name),
            srcset: String::new(),
            webp_srcset: String::new(),
            width: 4,
            height: 3,
        };
    }
    let mut srcset = Vec::new();
    let mut webp_srcset = Vec::new();
    for w in widths_for(width) {
        srcset.push(format!("{} {w}w", url(&rendition_name(name, w, false))));
        webp_srcset.push(format!("{} {w}w", url(&rendition_name(name, w, true))));
    }
    // The photo itself is the largest size, in its own format only.
    srcset.push(format!("{} {width}w", url(name)));
    webp_srcset.push(format!("{} {width}w", url(name)));
    // Without srcset support: 640 wide when there is such a size (a card's), else the photo.
    let src = widths_for(width)
        .find(|w| *w == 640)
        .map(|w| url(&rendition_name(name, w, false)))
        .unwrap_or_else(|| url(name));
    Picture {
        src,
        srcset: srcset.join(", "),
        webp_srcset: if webp_srcset.len() > 1 {
            webp_srcset.join(", ")
        } else {
            String::new()
        },
        width,
        height,
    }
}

/// A card's photo when only the name is known (the marketplace reads the cover's name from
/// the listing's row): the 320 and 640 sizes, which every photo wider than those has; for
/// a narrower photo (or one whose sizes are not made yet) the store answers with the photo
/// itself (`super::serve`). Shown 16:10, as cards are.
pub fn card_picture(name: &str, url: impl Fn(&str) -> String) -> Picture {
    let set = |webp: bool| {
        [320, 640]
            .map(|w| format!("{} {w}w", url(&rendition_name(name, w, webp))))
            .join(", ")
    };
    // Every current browser takes WebP: the JPEG is the 640 size alone, for the few that
    // do not (fewer bytes in the marketplace page).
    Picture {
        src: url(&rendition_name(name, 640, false)),
        srcset: String::new(),
        webp_srcset: set(true),
        width: 640,
        height: 400,
    }
}

/// The sizes of a decoded, upright photo (largest first, each made from the one before).
pub fn make(photo: &image::DynamicImage) -> Result<Vec<Rendition>, String> {
    let alpha = photo.color().has_alpha();
    let mut made = Vec::new();
    let mut source: Option<image::DynamicImage> = None;
    for width in WIDTHS.into_iter().rev() {
        if width >= photo.width() {
            continue;
        }
        let from = source.as_ref().unwrap_or(photo);
        let height = scaled_height(photo.width(), photo.height(), width);
        let sized = from.thumbnail_exact(width, height);
        made.push(Rendition {
            width,
            fallback: encode_fallback(&sized, alpha, JPEG_QUALITY)?,
            webp: encode_webp(&sized, alpha),
        });
        source = Some(sized);
    }
    made.reverse();
    Ok(made)
}

/// The height of a `width` x `height` photo scaled to `to` pixels wide (at least 1).
pub fn scaled_height(width: u32, height: u32, to: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(to) + u64::from(width) / 2) / u64::from(width.max(1));
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

/// JPEG at `quality`, or PNG when the photo has transparency.
pub fn encode_fallback(
    img: &image::DynamicImage,
    alpha: bool,
    quality: u8,
) -> Result<Vec<u8>, String> {
    let failed = |_| super::DAMAGED.to_owned();
    let mut out = Cursor::new(Vec::new());
    if alpha {
        img.to_rgba8()
            .write_to(&mut out, image::ImageFormat::Png)
            .map_err(failed)?;
    } else {
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&*rgb8(img))
            .map_err(failed)?;
    }
    Ok(out.into_inner())
}

/// The photo's pixels as 8-bit RGB, copied only when they are not already.
fn rgb8(img: &image::DynamicImage) -> std::borrow::Cow<'_, image::RgbImage> {
    match img {
        image::DynamicImage::ImageRgb8(pixels) => std::borrow::Cow::Borrowed(pixels),
        other => std::borrow::Cow::Owned(other.to_rgb8()),
    }
}

/// Lossy WebP (with its transparency when it has one).
fn encode_webp(img: &image::DynamicImage, alpha: bool) -> Vec<u8> {
    let (width, height) = (img.width(), img.height());
    if alpha {
        let pixels = img.to_rgba8();
        webp::Encoder::from_rgba(&pixels, width, height)
            .encode(WEBP_QUALITY)
            .to_vec()
    } else {
        let pixels = rgb8(img);
        webp::Encoder::from_rgb(&pixels, width, height)
            .encode(WEBP_QUALITY)
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(name: &str) -> String {
        format!("/media/{name}")
    }

    fn photo(width: u32, height: u32) -> image::DynamicImage {
        image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        }))
    }

    #[test]
    fn every_size_smaller_than_the_photo_is_made_in_both_formats_and_keeps_the_shape() {
        let made = make(&photo(2000, 1500)).unwrap();
        assert_eq!(
            made.iter().map(|r| r.width).collect::<Vec<_>>(),
            [320, 640, 1280]
        );
        for size in &made {
            let jpeg = image::load_from_memory(&size.fallback).unwrap();
            let webp = image::load_from_memory(&size.webp).unwrap();
            assert_eq!(
                image::guess_format(&size.fallback).unwrap(),
                image::ImageFormat::Jpeg
            );
            assert_eq!(
                image::guess_format(&size.webp).unwrap(),
                image::ImageFormat::WebP
            );
            let expected = (size.width, size.width * 3 / 4);
            assert_eq!((jpeg.width(), jpeg.height()), expected);
            assert_eq!((webp.width(), webp.height()), expected);
        }
        // A photo 700 wide gets 320 and 640 only: nothing is enlarged.
        let made = make(&photo(700, 1000)).unwrap();
        assert_eq!(made.iter().map(|r| r.width).collect::<Vec<_>>(), [320, 640]);
        assert!(make(&photo(300, 200)).unwrap().is_empty());
    }

    #[test]
    fn a_transparent_photo_keeps_its_transparency_in_both_formats() {
        let img = image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            700,
            400,
            image::Rgba([10, 20, 30, 0]),
        ));
        let made = make(&img).unwrap();
        assert_eq!(
            image::guess_format(&made[0].fallback).unwrap(),
            image::ImageFormat::Png
        );
        let webp = image::load_from_memory(&made[0].webp).unwrap();
        assert!(webp.color().has_alpha());
    }

    #[test]
    fn names_and_srcsets_list_only_the_sizes_that_exist() {
        assert_eq!(rendition_name("ab12.jpg", 640, true), "ab12-640w.webp");
        assert_eq!(rendition_name("ab12.png", 320, false), "ab12-320w.png");
        assert_eq!(photo_stem("ab12-640w.webp"), Some("ab12"));
        assert_eq!(photo_stem("ab12-thumb.jpg"), Some("ab12"));
        assert_eq!(photo_stem("ab12.jpg"), None);
        assert_eq!(photo_stem("ab12-999w.jpg"), None);
        for file in files_of("ab12.jpg") {
            assert!(super::super::is_media_name(&file), "{file}");
        }
        let p = picture("ab12.jpg", 1000, 750, url);
        assert_eq!(
            p.webp_srcset,
            "/media/ab12-320w.webp 320w, /media/ab12-640w.webp 640w, /media/ab12.jpg 1000w"
        );
        assert_eq!(
            p.srcset,
            "/media/ab12-320w.jpg 320w, /media/ab12-640w.jpg 640w, /media/ab12.jpg 1000w"
        );
        assert_eq!(
            (p.src.as_str(), p.width, p.height),
            ("/media/ab12-640w.jpg", 1000, 750)
        );
        // A small photo is only itself; one whose sizes are not made yet too.
        let small = picture("ab12.jpg", 300, 200, url);
        assert_eq!(
            (small.src.as_str(), small.webp_srcset.as_str()),
            ("/media/ab12.jpg", "")
        );
        assert_eq!(picture("ab12.jpg", 0, 0, url).srcset, "");
    }
}
