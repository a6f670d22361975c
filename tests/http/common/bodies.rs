//! What the tests send: cars as API JSON, the sell form, the API's multipart form with a
//! photo, and photos.

use reqwest::multipart;
use serde_json::{json, Value};

/// A used car as API JSON, with every field a seller fills in ("A tidy {make} {model}.").
pub fn car_json(make: &str, model: &str, year: i32, price: &str, mileage: i64) -> Value {
    json!({
        "make": make, "model": model, "year": year, "price": price, "mileage": mileage,
        "condition": "used", "description": format!("A tidy {make} {model}.")
    })
}

/// A 2015 Fiat `model` as API JSON, with only the required fields.
pub fn bare_car_json(model: &str) -> Value {
    json!({"make": "Fiat", "model": model, "year": 2015, "price": "4000", "mileage": 60000})
}

/// The sell (or edit) form for a used car, without a photo ("A tidy {make} {model}.").
pub fn car_form(
    make: &str,
    model: &str,
    year: &str,
    price: &str,
    mileage: &str,
) -> multipart::Form {
    multipart::Form::new()
        .text("make", make.to_owned())
        .text("model", model.to_owned())
        .text("year", year.to_owned())
        .text("price", price.to_owned())
        .text("mileage", mileage.to_owned())
        .text("condition", "used")
        .text("description", format!("A tidy {make} {model}."))
        .text("image_url", "")
}

/// An API create form (multipart) for a 2015 Fiat Panda with `photo` as its primary image.
pub fn car_with_photo(photo: Vec<u8>) -> multipart::Form {
    multipart::Form::new()
        .text("make", "Fiat")
        .text("model", "Panda")
        .text("year", "2015")
        .text("price", "4000")
        .text("mileage", "60000")
        .part(
            "primary_image",
            multipart::Part::bytes(photo).file_name("car.png"),
        )
}

/// A small opaque PNG (40 x 25, one colour).
pub fn png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(40, 25, image::Rgb([10, 90, 200]))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A 1600 x 1200 camera-like JPEG: wide enough for every smaller size.
pub fn camera_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([
            (x / 7 % 256) as u8,
            (y / 5 % 256) as u8,
            ((x + y) / 11 % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
