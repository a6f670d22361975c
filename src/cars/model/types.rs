//! The listing's types: conditions, statuses, cars as stored and as summarised, and the
//! validated draft a form becomes; the limits on their fields.

use super::*;

/// Cars per marketplace page.
pub const PAGE_SIZE: u32 = 24;
/// How many matches a list counts and lets you page through. Beyond it the marketplace
/// says "more than 10,000" and asks for a narrower search, so a count or a deep page costs
/// the same with a million listings as with ten thousand.
pub const MAX_RESULTS: i64 = 10_000;
pub const MAX_PRICE_CENTS: i64 = 999_999_999_999;
pub const MAX_MILEAGE_KM: i64 = 2_000_000;
pub const MIN_YEAR: i32 = 1886;
pub const MAX_TEXT: usize = 100;
pub const MAX_DESCRIPTION: usize = 5_000;
pub const MAX_URL: usize = 2_000;
/// The largest photo a seller may upload, in MB (the server's `max_upload_bytes`).
pub const MAX_PHOTO_MB: usize = 15;
pub const MAX_SEARCH: usize = 100;
/// Deepest page number accepted (keeps OFFSET arithmetic small).
pub const MAX_PAGE: u32 = 100_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    New,
    #[default]
    Used,
}

impl Condition {
    pub const ALL: [Condition; 2] = [Condition::New, Condition::Used];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::New => "new",
            Condition::Used => "used",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Condition::New => "New",
            Condition::Used => "Used",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "new" => Some(Condition::New),
            "used" => Some(Condition::Used),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Available,
    Pending,
    Sold,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Available, Status::Pending, Status::Sold];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Pending => "pending",
            Status::Sold => "sold",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Available => "Available",
            Status::Pending => "Sale pending",
            Status::Sold => "Sold",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "available" => Some(Status::Available),
            "pending" => Some(Status::Pending),
            "sold" => Some(Status::Sold),
            _ => None,
        }
    }
}

/// The most photos a listing may have.
pub const MAX_PHOTOS: usize = 20;
/// The longest caption a photo may have, in characters.
pub const MAX_CAPTION: usize = 120;

/// What a photo shows, so a buyer can go straight to (say) the damage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PhotoLabel {
    Exterior,
    Interior,
    Engine,
    Wheels,
    Documents,
    Damage,
}

impl PhotoLabel {
    pub const ALL: [PhotoLabel; 6] = [
        PhotoLabel::Exterior,
        PhotoLabel::Interior,
        PhotoLabel::Engine,
        PhotoLabel::Wheels,
        PhotoLabel::Documents,
        PhotoLabel::Damage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PhotoLabel::Exterior => "exterior",
            PhotoLabel::Interior => "interior",
            PhotoLabel::Engine => "engine",
            PhotoLabel::Wheels => "wheels",
            PhotoLabel::Documents => "documents",
            PhotoLabel::Damage => "damage",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim().to_ascii_lowercase();
        PhotoLabel::ALL
            .into_iter()
            .find(|label| label.as_str() == value)
    }
}

/// One of a listing's photos; position 1 is the cover.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    pub id: i64,
    pub position: i64,
    /// The stored file's name (see `media`).
    pub name: String,
    pub label: Option<PhotoLabel>,
    pub caption: String,
    /// Its shape in pixels, upright; 0 x 0 until its sizes are made (photos stored before
    /// sizes existed) or when they cannot be.
    pub width: u32,
    pub height: u32,
}

/// A listing as the marketplace grid shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarSummary {
    pub id: i64,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub status: Status,
    /// Where the photo can be loaded from: an uploaded photo, else the image URL.
    pub image: Option<String>,
    /// The cover's card-sized copies, when it is an uploaded photo.
    pub picture: Option<crate::ui::Picture>,
    /// How many photos the listing has.
    pub photo_count: u32,
    /// Where the car is, when its seller said.
    pub town: Option<Place>,
    /// How far it is from the town a "near" search names, in km.
    pub distance_km: Option<f64>,
}

impl CarSummary {
    pub fn title(&self) -> String {
        format!("{} {} {}", self.year, self.make, self.model)
    }
}

/// Everything about one listing, for its details page and its edit form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Car {
    pub id: i64,
    pub seller_id: i64,
    pub seller_username: String,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub description: String,
    /// Path of the uploaded photo (under /media), if any.
    pub photo_url: Option<String>,
    pub image_url: Option<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub specs: Specs,
    /// Where the car is, when its seller said.
    pub town: Option<Place>,
}

impl Car {
    pub fn title(&self) -> String {
        format!("{} {} {}", self.year, self.make, self.model)
    }

    pub fn image(&self) -> Option<String> {
        self.photo_url.clone().or_else(|| self.image_url.clone())
    }
}

/// A validated listing, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarDraft {
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub description: String,
    pub image_url: Option<String>,
    pub specs: Specs,
    /// The car's town (a gazetteer id), when the seller names one.
    pub town_id: Option<i64>,
}
