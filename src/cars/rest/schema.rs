//! What the OpenAPI document says the listings API accepts: the bounds, patterns and
//! enumerations that `CarForm` and the filter parser enforce, written here once, kept
//! equal to the validators by the unit tests below and tried against the running
//! server by schemathesis (`end2end/schemathesis`).
//!
//! A body has one schema per media type: JSON may send `null` and numbers, a form sends
//! text only, and only multipart carries the photo. PATCH has the same fields, none
//! required.

use super::super::model::{
    BodyType, Colour, Drive, EquipmentItem, Fuel, PhotoLabel, Transmission, MAX_BATTERY_WH,
    MAX_CAPTION, MAX_DESCRIPTION, MAX_DOORS, MAX_ENGINE_CC, MAX_MILEAGE_KM, MAX_OWNERS, MAX_PHOTOS,
    MAX_PHOTO_MB, MAX_POWER_KW, MAX_PRICE_CENTS, MAX_SEATS, MAX_TEXT, MAX_URL, MIN_ENGINE_CC,
    MIN_YEAR, RADII_KM,
};
use crate::rest::{json_schema, CONTROL, TRIMMED};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use utoipa::{
    openapi::{schema::Schema, RefOr},
    PartialSchema, ToSchema,
};

/// How a body is sent.
#[derive(Clone, Copy, PartialEq)]
enum Media {
    Json,
    Form,
    Multipart,
}

/// Make or model: after trimming, 1 to `MAX_TEXT` characters, none of them a control character.
pub fn name_pattern() -> String {
    format!(
        "^[{TRIMMED}]*[^{TRIMMED}{CONTROL}][^{CONTROL}]{{0,{}}}[{TRIMMED}]*$",
        MAX_TEXT - 1
    )
}

/// The description: after trimming, at most `MAX_DESCRIPTION` characters; line breaks and
/// tabs are the only control characters allowed.
pub fn description_pattern() -> String {
    const BAD: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";
    format!(
        "^[{TRIMMED}]*([^{TRIMMED}{BAD}][^{BAD}]{{0,{}}})?[{TRIMMED}]*$",
        MAX_DESCRIPTION - 1
    )
}

/// A price as text: more than 0, at most 2 decimal places, at most 10 digits before the
/// point (leading zeros aside). The pages also take "$15,999"; the document shows the plain form.
pub const PRICE_PATTERN: &str = r"^(0*[1-9][0-9]{0,9}(\.[0-9]{0,2})?|0*\.(0[1-9]|[1-9][0-9]?))$";

/// An absolute http(s) address with an ASCII host name (a letter starts its last label, so
/// it is never read as an IPv4 address) and a path, or nothing. Its characters are ones
/// the address keeps as they are when it is stored, so its length is the stored length.
pub const IMAGE_URL_PATTERN: &str = r"^((https?)://([a-z0-9]+(-[a-z0-9]+)*\.)*[a-z]([a-z0-9]*(-[a-z0-9]+)*)?(:[0-9]{1,4})?/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*(\?[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?)?$";

/// Dollars: the maximum a listing may ask.
fn max_price() -> f64 {
    MAX_PRICE_CENTS as f64 / 100.0
}

/// The model-year bounds: from the first car to next year's models.
pub fn year_bounds(current_year: i32) -> (i32, i32) {
    (MIN_YEAR, current_year + 1)
}

fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// `"type"` for a text field: JSON may also send `null` (read as empty) where `nullable`,
/// and a number where `numbers` (read as its text, as DRF's CharField does).
fn text_type(media: Media, numbers: bool, nullable: bool) -> Value {
    match media {
        Media::Json => {
            let mut kinds = vec!["string"];
            if numbers {
                kinds.push("number");
            }
            if nullable {
                kinds.push("null");
            }
            json!(kinds)
        }
        Media::Form | Media::Multipart => json!("string"),
    }
}

fn car_body(media: Media, partial: bool) -> Schema {
    let (min_year, max_year) = year_bounds(current_year());
    let price = if media == Media::Json {
        json!({
            "type": ["string", "number"],
            "description": "Dollars: a decimal string (as the API answers it) or a number.",
            "pattern": PRICE_PATTERN,
            "exclusiveMinimum": 0,
            "maximum": max_price(),
            "multipleOf": 0.01,
            "examples": ["11990.00"],
        })
    } else {
        json!({
            "type": "string",
            "description": "Dollars, with at most 2 decimal places.",
            "pattern": PRICE_PATTERN,
            "examples": ["11990.00"],
        })
    };
    let mut conditions = vec![json!("new"), json!("used"), json!("")];
    if media == Media::Json {
        conditions.push(Value::Null);
    }
    let mut properties = Map::new();
    let name = text_type(media, true, false);
    properties.insert(
        "make".into(),
        json!({ "type": name, "pattern": name_pattern(), "examples": ["Toyota"] }),
    );
    properties.insert(
        "model".into(),
        json!({ "type": name, "pattern": name_pattern(), "examples": ["Corolla"] }),
    );
    properties.insert(
        "year".into(),
        json!({
            "type": "integer",
            "description": format!("Model year, {min_year} to next year."),
            "minimum": min_year,
            "maximum": max_year,
            "examples": [2017],
        }),
    );
    properties.insert("price".into(), price);
    properties.insert(
        "mileage".into(),
        json!({
            "type": "integer",
            "description": "Kilometres.",
            "minimum": 0,
            "maximum": MAX_MILEAGE_KM,
            "examples": [98000],
        }),
    );
    properties.insert(
        "condition".into(),
        json!({
            "type": text_type(media, false, true),
            "description": "`new` or `used`; empty means used.",
            "enum": conditions,
        }),
    );
    properties.insert(
        "description".into(),
        json!({ "type": text_type(media, true, true), "pattern": description_pattern() }),
    );
    properties.insert(
        "image_url".into(),
        json!({
            "type": text_type(media, false, true),
            "description": "An http(s) address of a photo hosted elsewhere; empty for none.",
            "pattern": IMAGE_URL_PATTERN,
            "maxLength": MAX_URL,
        }),
    );
    if media == Media::Multipart {
        properties.insert(
            "primary_image".into(),
            json!({
                "type": "string",
                "format": "binary",
                "description": format!(
                    "The photo: JPEG, PNG or WebP, at most {MAX_PHOTO_MB} MB and 48 megapixels."
                ),
            }),
        );
    }
    specs_properties(media, &mut properties);
    properties.insert(
        "town_id".into(),
        json!({
            "description": "The car's town: an id from `GET /api/towns/`; empty (or null) for none.",
            "anyOf": [{ "type": "integer", "minimum": 1, "examples": [4887398] }, empty(media)],
        }),
    );
    let mut body = json!({ "type": "object", "properties": properties });
    if media == Media::Multipart {
        body["propertyNames"] = json!({ "type": "string", "pattern": PART_NAME });
    }
    if !partial {
        body["required"] = json!(["make", "model", "year", "price", "mileage"]);
    }
    json_schema(fuel_rules(media, body))
}

/// What leaves an optional field empty: `""`, and in JSON also `null`.
fn empty(media: Media) -> Value {
    match media {
        Media::Json => json!({ "type": ["string", "null"], "enum": ["", null] }),
        Media::Form | Media::Multipart => json!({ "type": "string", "enum": [""] }),
    }
}

/// One of a fixed list by its id, or empty.
fn choice<T: Copy>(media: Media, all: &[T], id: fn(T) -> &'static str, description: &str) -> Value {
    let mut ids: Vec<Value> = all.iter().map(|c| json!(id(*c))).collect();
    ids.push(json!(""));
    if media == Media::Json {
        ids.push(Value::Null);
    }
    json!({ "type": text_type(media, false, true), "description": description, "enum": ids })
}

/// A number within `min..=max` (whole unless `kind` is "number"), or empty.
fn figure(media: Media, kind: &str, min: i32, max: i32, description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [{ "type": kind, "minimum": min, "maximum": max }, empty(media)],
    })
}

/// Years `min..=max` as a regular expression: whole decades as `199[0-9]`, the rest one by one.
pub fn year_pattern(min: i32, max: i32) -> String {
    let mut parts = Vec::new();
    let mut year = min;
    while year <= max {
        let decade = year - year % 10;
        if year == decade && decade + 9 <= max {
            parts.push(format!("{}[0-9]", decade / 10));
            year += 10;
        } else {
            parts.push(year.to_string());
            year += 1;
        }
    }
    format!("({})", parts.join("|"))
}

/// The specification's fields (see `model::specs`); every one may be left out or empty.
fn specs_properties(media: Media, properties: &mut Map<String, Value>) {
    let whole =
        |min: i32, max: i32, description: &str| figure(media, "integer", min, max, description);
    let fields = [
        (
            "body_type",
            choice(media, BodyType::ALL, BodyType::as_str, "The body type."),
        ),
        (
            "fuel",
            choice(media, Fuel::ALL, Fuel::as_str, "What the car runs on."),
        ),
        (
            "transmission",
            choice(
                media,
                Transmission::ALL,
                Transmission::as_str,
                "The gearbox.",
            ),
        ),
        (
            "drive",
            choice(media, Drive::ALL, Drive::as_str, "The driven wheels."),
        ),
        (
            "colour",
            choice(media, Colour::ALL, Colour::as_str, "The exterior colour."),
        ),
        ("power_kw", whole(1, MAX_POWER_KW, "Power in kW.")),
        (
            "engine_cc",
            whole(
                MIN_ENGINE_CC,
                MAX_ENGINE_CC,
                "Engine size in cc; empty for an electric car.",
            ),
        ),
        (
            "battery_kwh",
            figure(
                media,
                "number",
                1,
                MAX_BATTERY_WH / 1000,
                "Battery capacity in kWh (rounded to a tenth); only for electric and plug-in \
                 hybrid cars.",
            ),
        ),
        ("doors", whole(1, MAX_DOORS, "Doors.")),
        ("seats", whole(1, MAX_SEATS, "Seats.")),
        ("previous_owners", whole(0, MAX_OWNERS, "Previous owners.")),
        (
            "first_registration",
            json!({
                "type": text_type(media, false, true),
                "description": "Month of first registration, YYYY-MM, this year at the latest.",
                "pattern": format!(
                    "^({}-(0[1-9]|1[0-2]))?$",
                    year_pattern(MIN_YEAR, current_year())
                ),
            }),
        ),
    ];
    for (name, schema) in fields {
        properties.insert(name.into(), schema);
    }
    let ids: Vec<&str> = EquipmentItem::ALL
        .iter()
        .map(|item| item.as_str())
        .collect();
    let list = json!({ "type": "array", "items": { "type": "string", "enum": ids } });
    properties.insert(
        "equipment".into(),
        if media == Media::Json {
            json!({
                "description": "Equipment ids; sent, it replaces the listing's list (null or [] for none).",
                "anyOf": [list, { "type": "null" }],
            })
        } else {
            json!({
                "description": "Equipment ids, the field repeated once per item; sent, it replaces the listing's list.",
                "anyOf": [list, empty(media)],
            })
        },
    );
}

/// The rules between fields: an electric car has no engine size, and only an electric or
/// plug-in hybrid car has a battery capacity. The body is one of three shapes, by its fuel:
/// electric, plug-in hybrid, or any other (or none). A change (PUT, PATCH) that leaves the
/// fuel out is checked against the fuel the listing has, which no document can say: the
/// contract run leaves those cases out (`end2end/schemathesis/hooks.py`).
fn fuel_rules(media: Media, body: Value) -> Value {
    let shape = |fuels: &[Fuel], required: bool, empty_field: Option<&str>| {
        let mut shape = body.clone();
        let mut ids: Vec<Value> = fuels.iter().map(|fuel| json!(fuel.as_str())).collect();
        if !required {
            ids.push(json!(""));
            if media == Media::Json {
                ids.push(Value::Null);
            }
        }
        shape["properties"]["fuel"]["enum"] = json!(ids);
        if let Some(field) = empty_field {
            shape["properties"][field] = empty(media);
        }
        if required {
            let mut names = shape["required"].as_array().cloned().unwrap_or_default();
            names.push(json!("fuel"));
            shape["required"] = json!(names);
        }
        shape
    };
    let others: Vec<Fuel> = Fuel::ALL
        .iter()
        .copied()
        .filter(|fuel| !fuel.has_battery())
        .collect();
    json!({
        "anyOf": [
            shape(&[Fuel::Electric], true, Some("engine_cc")),
            shape(&[Fuel::PlugInHybrid], true, None),
            shape(&others, false, Some("battery_kwh")),
        ]
    })
}

macro_rules! car_body_schema {
    ($(#[$doc:meta])* $name:ident, $media:expr, $partial:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                car_body($media, $partial).into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

car_body_schema!(
    /// A listing sent as JSON (create or replace).
    CarWrite, Media::Json, false
);
car_body_schema!(
    /// A listing sent as an url-encoded form (create or replace).
    CarWriteForm, Media::Form, false
);
car_body_schema!(
    /// A listing sent as multipart/form-data, with its photo (create or replace).
    CarWriteMultipart, Media::Multipart, false
);
car_body_schema!(
    /// The fields of a listing to change, as JSON.
    CarPatch, Media::Json, true
);
car_body_schema!(
    /// The fields of a listing to change, as an url-encoded form.
    CarPatchForm, Media::Form, true
);
car_body_schema!(
    /// The fields of a listing to change, as multipart/form-data (a new photo too).
    CarPatchMultipart, Media::Multipart, true
);

/// A PATCH of a listing or of a photo may send no body at all (it changes nothing, as DRF
/// answers it): its request body is optional. (utoipa's `Option<T>` would say the body may
/// be JSON `null`, which it may not.)
pub struct OptionalPatchBody;

impl utoipa::Modify for OptionalPatchBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::Required;
        for path in ["/api/cars/{id}/", "/api/cars/{id}/photos/{photo}/"] {
            let body = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.patch.as_mut())
                .and_then(|op| op.request_body.as_mut());
            if let Some(body) = body {
                body.required = Some(Required::False);
            }
        }
    }
}

/// The refusals every write of a listing's fields and photo may answer (create, replace,
/// change), documented once.
pub struct WriteRefusals;

impl utoipa::IntoResponses for WriteRefusals {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        use utoipa::openapi::{Content, Ref, ResponseBuilder};
        let answer = |description: &str, schema: &str| {
            let body = Content::new(Some(Ref::from_schema_name(schema)));
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", body)
                    .build(),
            )
        };
        [
            (
                "400",
                "Invalid fields: {\"year\": [\"...\"]}",
                "FieldErrorsBody",
            ),
            ("401", "Not signed in", "Detail"),
            ("413", "Body or photo too large", "Detail"),
            ("415", "Unsupported content type", "Detail"),
            (
                "429",
                "Too many listings or photos from this account this hour",
                "Detail",
            ),
            (
                "503",
                "Every photo decoder is busy: try again (Retry-After)",
                "Detail",
            ),
        ]
        .into_iter()
        .map(|(status, description, schema)| (status.to_owned(), answer(description, schema)))
        .collect()
    }
}

/// A schema written in JSON, under a name of its own in the document.
macro_rules! documented_body {
    ($(#[$doc:meta])* $name:ident, $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                json_schema($schema).into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// A part's name is a quoted header parameter: no control characters or quotes.
const PART_NAME: &str = r#"^[^\x00-\x1f\x7f"]*$"#;

documented_body!(
    /// Photos to add: one or more files in `photos` fields.
    PhotoUpload,
    json!({
        "type": "object",
        "required": ["photos"],
        "properties": {
            "photos": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_PHOTOS,
                "items": {
                    "type": "string",
                    "format": "binary",
                    "description": format!(
                        "A photo: JPEG, PNG or WebP, at most {MAX_PHOTO_MB} MB and 48 megapixels."
                    ),
                },
            },
        },
        "propertyNames": { "type": "string", "pattern": PART_NAME },
    })
);

documented_body!(
    /// The new order of a listing's photos, and/or its cover.
    PhotoArrangement,
    json!({
        "type": "object",
        "properties": {
            "order": {
                "type": ["array", "null"],
                "description": "Every photo of the listing once, by id, in the order wanted.",
                "maxItems": MAX_PHOTOS,
                "items": { "type": "integer", "minimum": 1, "maximum": i64::MAX },
            },
            "cover": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": i64::MAX,
                "description": "The photo to show first.",
            },
        },
    })
);

/// A caption: after trimming, at most `MAX_CAPTION` characters on one line.
pub fn caption_pattern() -> String {
    format!(
        "^[{TRIMMED}]*([^{TRIMMED}{CONTROL}][^{CONTROL}]{{0,{}}})?[{TRIMMED}]*$",
        MAX_CAPTION - 1
    )
}

fn photo_description(media: Media) -> Value {
    let mut labels: Vec<Value> = PhotoLabel::ALL
        .into_iter()
        .map(|label| json!(label.as_str()))
        .collect();
    labels.push(json!(""));
    if media == Media::Json {
        labels.push(Value::Null);
    }
    json!({
        "type": "object",
        "properties": {
            "label": {
                "type": text_type(media, false, true),
                "description": "What the photo shows; empty for nothing in particular.",
                "enum": labels,
            },
            "caption": {
                "type": text_type(media, true, true),
                "pattern": caption_pattern(),
                "examples": ["Scratch on the rear bumper"],
            },
        },
    })
}

documented_body!(
    /// What a photo shows, as JSON.
    PhotoDescription,
    photo_description(Media::Json)
);
documented_body!(
    /// What a photo shows, as an url-encoded form.
    PhotoDescriptionForm,
    photo_description(Media::Form)
);

/// `{"status": "sold"}`.
pub struct StatusChange;

impl PartialSchema for StatusChange {
    fn schema() -> RefOr<Schema> {
        json_schema(json!({
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": { "type": "string", "enum": ["available", "pending", "sold"] },
            },
        }))
        .into()
    }
}

impl ToSchema for StatusChange {}

/// Nothing but white space: a filter left empty, as a form sends it.
fn blank() -> String {
    format!("^[{TRIMMED}]*$")
}

/// A year filter: a year from 0 to 9999, or empty for none (as a form sends it).
pub fn year_filter() -> Schema {
    json_schema(json!({
        "type": ["integer", "string"],
        "minimum": 0,
        "maximum": 9999,
        "pattern": blank(),
    }))
}

/// A price filter: dollars (0 allowed), or empty for none.
pub fn price_filter() -> Schema {
    json_schema(json!({
        "type": "string",
        "pattern": format!(
            r"^[{TRIMMED}]*([0-9]{{1,10}}(\.[0-9]{{0,2}})?|[0-9]{{0,10}}\.[0-9]{{1,2}})?[{TRIMMED}]*$"
        ),
        "examples": ["20000"],
    }))
}

/// The mileage filter: kilometres up to 2,000,000, or empty for none.
pub fn mileage_filter() -> Schema {
    json_schema(json!({
        "type": ["integer", "string"],
        "minimum": 0,
        "maximum": MAX_MILEAGE_KM,
        "pattern": blank(),
    }))
}

/// The distance of a `near` search: one of the offered radii in km, or empty for the default.
pub fn radius_filter() -> Schema {
    json_schema(json!({
        "anyOf": [
            { "type": "integer", "enum": RADII_KM },
            { "type": "string", "pattern": blank() },
        ],
    }))
}

/// A power filter in kW, or empty for none.
pub fn power_filter() -> Schema {
    json_schema(json!({
        "type": ["integer", "string"],
        "minimum": 0,
        "maximum": MAX_POWER_KW,
        "pattern": blank(),
    }))
}

/// A list filter: the choices' ids, the parameter repeated once per choice. An empty value
/// (as a form may send) is no choice, as for the other filters.
fn list_filter<T: Copy>(all: &[T], id: fn(T) -> &'static str) -> Schema {
    let ids: Vec<&str> = all.iter().map(|c| id(*c)).collect();
    json_schema(json!({
        "type": "array",
        "items": {
            "anyOf": [
                { "type": "string", "enum": ids },
                { "type": "string", "pattern": blank() }
            ]
        }
    }))
}

pub fn body_type_filter() -> Schema {
    list_filter(BodyType::ALL, BodyType::as_str)
}

pub fn fuel_filter() -> Schema {
    list_filter(Fuel::ALL, Fuel::as_str)
}

pub fn transmission_filter() -> Schema {
    list_filter(Transmission::ALL, Transmission::as_str)
}

pub fn drive_filter() -> Schema {
    list_filter(Drive::ALL, Drive::as_str)
}

pub fn colour_filter() -> Schema {
    list_filter(Colour::ALL, Colour::as_str)
}

pub fn equipment_filter() -> Schema {
    list_filter(EquipmentItem::ALL, EquipmentItem::as_str)
}

/// The condition filter: `new`, `used`, or empty for both.
pub fn condition_filter() -> Schema {
    json_schema(json!({ "type": "string", "enum": ["new", "used", ""] }))
}

/// The page: 1 to `MAX_PAGE` (a page past the last is a 404), or empty for the first.
pub fn page_param() -> Schema {
    json_schema(json!({
        "type": ["integer", "string"],
        "minimum": 1,
        "maximum": super::super::model::MAX_PAGE,
        "pattern": blank(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::super::model::{
        parse_caption, parse_description, parse_image_url, parse_name, parse_price,
        parse_price_filter,
    };
    use super::*;
    use regex::Regex;

    fn regex(pattern: &str) -> Regex {
        Regex::new(pattern).unwrap()
    }

    /// Each list filter documents its choices' ids and a blank value (no choice, which the
    /// server ignores as it does for the other filters); utoipa keeps the whole schema.
    #[test]
    fn list_filters_document_their_ids_and_a_blank_value() {
        for (schema, first) in [
            (body_type_filter(), "sedan"),
            (fuel_filter(), "petrol"),
            (transmission_filter(), "manual"),
            (drive_filter(), "front"),
            (colour_filter(), "black"),
            (equipment_filter(), "air_conditioning"),
        ] {
            let schema = serde_json::to_value(&schema).unwrap();
            let kinds = schema["items"]["anyOf"].as_array().unwrap();
            assert_eq!(kinds[0]["enum"][0], first);
            let blank = regex(kinds[1]["pattern"].as_str().unwrap());
            assert!(blank.is_match("") && blank.is_match(" \t"));
            assert!(!blank.is_match(first) && !blank.is_match(" x "));
        }
    }

    /// Edge cases for text fields: blanks, white space the server trims, control characters,
    /// lengths at and past the limits, and non-ASCII text.
    fn texts(limit: usize) -> Vec<String> {
        let mut out: Vec<String> = [
            "",
            " ",
            "a",
            " a ",
            "\ta\n",
            "a\tb",
            "a\nb",
            "a\rb",
            "\u{3000}a\u{3000}",
            "\u{85}a",
            "a\u{85}b",
            "\u{1c}a",
            "a\u{7f}",
            "a\u{9f}b",
            "a\u{a0}b",
            "Škoda",
            "日本",
            "😀",
            "\u{feff}a",
            "\u{200b}",
            "a\u{2028}",
            "x\u{0}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [limit - 1, limit, limit + 1] {
            out.push("é".repeat(n));
            out.push(format!("  {}  ", "b".repeat(n)));
            out.push(format!("{} {}", "c".repeat(n / 2), "d".repeat(n - n / 2)));
        }
        out
    }

    #[test]
    fn the_name_pattern_accepts_exactly_what_the_form_accepts() {
        let pattern = regex(&name_pattern());
        for text in texts(MAX_TEXT) {
            assert_eq!(
                pattern.is_match(&text),
                parse_name("Make", &text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_caption_pattern_accepts_exactly_what_the_api_accepts() {
        let pattern = regex(&caption_pattern());
        for text in texts(MAX_CAPTION) {
            assert_eq!(
                pattern.is_match(&text),
                parse_caption(&text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_description_pattern_accepts_exactly_what_the_form_accepts() {
        let pattern = regex(&description_pattern());
        for text in texts(MAX_DESCRIPTION) {
            assert_eq!(
                pattern.is_match(&text),
                parse_description(&text).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn what_the_price_pattern_allows_the_form_accepts() {
        let pattern = regex(PRICE_PATTERN);
        let cases = [
            "1",
            "0.01",
            ".5",
            "5.",
            "0.10",
            "00012",
            "9999999999.99",
            "9999999999",
            "0000000001.5",
            "0",
            "0.00",
            "0.0",
            ".",
            "",
            "1.234",
            "10000000000",
            "-1",
            "1e5",
            " 1",
            "$1",
            "1,000",
        ];
        for case in cases {
            if pattern.is_match(case) {
                assert!(
                    parse_price(case).is_ok(),
                    "{case:?} is documented but refused"
                );
            }
        }
        // The refusals the document must show (the leniencies of the pages aside).
        for case in ["0", "0.00", ".", "", "1.234", "10000000000", "-1", "1e5"] {
            assert!(!pattern.is_match(case), "{case:?}");
            assert!(parse_price(case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn what_the_price_filter_pattern_allows_the_filter_accepts() {
        let pattern = regex(price_filter_pattern());
        for case in [
            "0",
            "0.00",
            "1",
            "20000",
            ".5",
            "5.",
            "9999999999.99",
            "0000000000.01",
        ] {
            assert!(pattern.is_match(case), "{case:?}");
            assert!(parse_price_filter(case).is_some(), "{case:?}");
        }
        for case in ["abc", "1.234", "-1", "."] {
            assert!(!pattern.is_match(case), "{case:?}");
            assert!(parse_price_filter(case).is_none(), "{case:?}");
        }
    }

    fn price_filter_pattern() -> &'static str {
        let schema = serde_json::to_value(price_filter()).unwrap();
        Box::leak(
            schema["pattern"]
                .as_str()
                .unwrap()
                .to_owned()
                .into_boxed_str(),
        )
    }

    #[test]
    fn what_the_image_url_pattern_allows_the_form_accepts() {
        let pattern = regex(IMAGE_URL_PATTERN);
        let accepted = [
            "",
            "http://a/",
            "https://example.com/photos/1.jpg?size=large&x=%20",
            "https://cdn-1.example.co.uk:8080/a/b/c.png",
            "http://xn-a.b/x",
            "https://a.b/~user/(1)/@x;y=z,1+2*3!'",
        ];
        for case in accepted {
            assert!(pattern.is_match(case), "{case:?}");
            assert!(parse_image_url(case).is_ok(), "{case:?}");
        }
        let refused = [
            "ftp://a.b/",
            "http://",
            "http://a.b",
            "http://1.2.3.4/",
            "http://a..b/",
            "http://-a/",
            "javascript:alert(1)",
            "http://a b/",
        ];
        for case in refused {
            assert!(!pattern.is_match(case), "{case:?}");
        }
        // At the length limit, as sent and as stored.
        let longest = format!("http://a.b/{}", "x".repeat(MAX_URL - 11));
        assert!(pattern.is_match(&longest));
        assert_eq!(parse_image_url(&longest).unwrap().unwrap().len(), MAX_URL);
        assert!(parse_image_url(&format!("{longest}x")).is_err());
        // Short enough as sent, too long once written out in full: refused, so that what is
        // stored can always be saved again.
        let quotes = format!("http://a.b/?{}", "'".repeat(MAX_URL - 20));
        assert!(!pattern.is_match(&quotes));
        assert!(parse_image_url(&quotes).is_err());
    }

    #[test]
    fn bodies_differ_by_media_type_and_patch_requires_nothing() {
        // Each body is one of three shapes by its fuel: electric, plug-in hybrid, the others.
        let shapes = |schema: RefOr<Schema>| -> Vec<Value> {
            let value = serde_json::to_value(schema).unwrap();
            let shapes = value["anyOf"].as_array().unwrap().clone();
            assert_eq!(shapes.len(), 3);
            shapes
        };
        let json = shapes(CarWrite::schema())[2].clone();
        let multipart = shapes(CarWriteMultipart::schema())[2].clone();
        let form = shapes(CarPatchForm::schema())[2].clone();
        assert_eq!(
            json["required"],
            json!(["make", "model", "year", "price", "mileage"])
        );
        assert!(json["properties"]["primary_image"].is_null());
        assert_eq!(multipart["properties"]["primary_image"]["format"], "binary");
        assert_eq!(
            json["properties"]["description"]["type"],
            json!(["string", "number", "null"])
        );
        assert_eq!(form["properties"]["description"]["type"], "string");
        assert!(form.get("required").is_none());
        let (min, max) = year_bounds(2026);
        assert_eq!((min, max), (1886, 2027));
        assert_eq!(json["properties"]["year"]["minimum"], MIN_YEAR);
    }

    #[test]
    fn the_fuel_decides_whether_an_engine_size_or_a_battery_may_be_given() {
        let [electric, plug_in, others]: [Value; 3] = serde_json::to_value(CarPatch::schema())
            .unwrap()["anyOf"]
            .as_array()
            .unwrap()
            .clone()
            .try_into()
            .unwrap();
        let empty = json!({ "type": ["string", "null"], "enum": ["", null] });
        assert_eq!(electric["properties"]["fuel"]["enum"], json!(["electric"]));
        assert_eq!(electric["required"], json!(["fuel"]));
        assert_eq!(electric["properties"]["engine_cc"], empty);
        assert_eq!(
            plug_in["properties"]["fuel"]["enum"],
            json!(["plug_in_hybrid"])
        );
        assert!(plug_in["properties"]["battery_kwh"]["anyOf"].is_array());
        assert!(
            others.get("required").is_none(),
            "a PATCH need not send the fuel"
        );
        assert_eq!(others["properties"]["battery_kwh"], empty);
        let fuels = others["properties"]["fuel"]["enum"].as_array().unwrap();
        assert!(fuels.contains(&json!("diesel")) && fuels.contains(&Value::Null));
        assert!(!fuels.contains(&json!("electric")));
    }

    #[test]
    fn years_become_a_pattern_by_decades() {
        assert_eq!(
            year_pattern(1886, 1912),
            "(1886|1887|1888|1889|189[0-9]|190[0-9]|1910|1911|1912)"
        );
        let pattern = regex::Regex::new(&format!("^{}$", year_pattern(MIN_YEAR, 2026))).unwrap();
        for year in 1800..2100 {
            let allowed = (MIN_YEAR..=2026).contains(&year);
            assert_eq!(pattern.is_match(&year.to_string()), allowed, "{year}");
        }
    }
}
