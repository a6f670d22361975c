//! Rows as the queries read them, and how they become the model's types.

use super::*;

pub fn media_url(name: &str) -> String {
    format!("/media/{name}")
}

#[derive(sqlx::FromRow)]
pub(super) struct CarRow {
    pub(super) id: i64,
    pub(super) seller_id: i64,
    pub(super) seller_username: String,
    pub(super) make: String,
    pub(super) model: String,
    pub(super) year: i32,
    pub(super) price_cents: i64,
    pub(super) mileage_km: i64,
    pub(super) condition: String,
    pub(super) description: String,
    pub(super) photo: Option<String>,
    pub(super) image_url: Option<String>,
    pub(super) status: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    #[sqlx(flatten)]
    pub(super) specs: SpecsRow,
    pub(super) town_id: Option<i64>,
}

/// A listing's specification as stored (see the `car_specs` migration).
#[derive(sqlx::FromRow)]
pub(super) struct SpecsRow {
    body_type: Option<String>,
    fuel: Option<String>,
    transmission: Option<String>,
    drive: Option<String>,
    colour: Option<String>,
    power_kw: Option<i32>,
    engine_cc: Option<i32>,
    battery_wh: Option<i32>,
    doors: Option<i32>,
    seats: Option<i32>,
    previous_owners: Option<i32>,
    first_registration: Option<String>,
    equipment: i64,
}

impl From<SpecsRow> for Specs {
    fn from(row: SpecsRow) -> Self {
        // A stored id this build does not know (written by a newer one) reads as unknown.
        fn choice<T>(id: Option<String>, parse: fn(&str) -> Option<T>) -> Option<T> {
            id.as_deref().and_then(parse)
        }
        Specs {
            body_type: choice(row.body_type, BodyType::parse),
            fuel: choice(row.fuel, Fuel::parse),
            transmission: choice(row.transmission, Transmission::parse),
            drive: choice(row.drive, Drive::parse),
            colour: choice(row.colour, Colour::parse),
            power_kw: row.power_kw,
            engine_cc: row.engine_cc,
            battery_wh: row.battery_wh,
            doors: row.doors,
            seats: row.seats,
            previous_owners: row.previous_owners,
            first_registration: choice(row.first_registration, YearMonth::parse),
            equipment: Equipment::from_db(row.equipment),
        }
    }
}

/// The specification's columns, in the order [`bind_specs!`](super::bind_specs) binds them.
macro_rules! specs_columns {
    () => {
        "c.body_type, c.fuel, c.transmission, c.drive, c.colour, c.power_kw, c.engine_cc, \
         c.battery_wh, c.doors, c.seats, c.previous_owners, c.first_registration, c.equipment"
    };
}

impl From<CarRow> for Car {
    fn from(row: CarRow) -> Self {
        Car {
            id: row.id,
            seller_id: row.seller_id,
            seller_username: row.seller_username,
            make: row.make,
            model: row.model,
            year: row.year,
            price_cents: row.price_cents,
            mileage_km: row.mileage_km,
            condition: Condition::parse(&row.condition).unwrap_or_default(),
            description: row.description,
            photo_url: row.photo.as_deref().map(media_url),
            image_url: row.image_url,
            status: Status::parse(&row.status).unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            specs: row.specs.into(),
            // A town this build's gazetteer lacks (a newer one named it) reads as none.
            town: row.town_id.and_then(Place::of),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    pub(super) id: i64,
    pub(super) make: String,
    pub(super) model: String,
    pub(super) year: i32,
    pub(super) price_cents: i64,
    pub(super) mileage_km: i64,
    pub(super) condition: String,
    pub(super) status: String,
    pub(super) photo: Option<String>,
    pub(super) image_url: Option<String>,
    pub(super) photo_count: i64,
    pub(super) town_id: Option<i64>,
}

impl From<SummaryRow> for CarSummary {
    fn from(row: SummaryRow) -> Self {
        CarSummary {
            id: row.id,
            make: row.make,
            model: row.model,
            year: row.year,
            price_cents: row.price_cents,
            mileage_km: row.mileage_km,
            condition: Condition::parse(&row.condition).unwrap_or_default(),
            status: Status::parse(&row.status).unwrap_or_default(),
            // Cards load a card-sized copy; the details page the larger ones.
            picture: row
                .photo
                .as_deref()
                .map(|name| crate::media::card_picture(name, media_url)),
            image: row.photo.as_deref().map(media_url).or(row.image_url),
            photo_count: u32::try_from(row.photo_count).unwrap_or(0),
            town: row.town_id.and_then(Place::of),
            distance_km: None,
        }
    }
}

pub(super) const CAR_COLUMNS: &str = concat!(
    "c.id, c.seller_id, u.username AS seller_username, c.make, c.model, c.year, c.price_cents, \
     c.mileage_km, c.condition, c.description, c.photo, c.image_url, c.status, c.created_at, \
     c.updated_at, c.town_id, ",
    specs_columns!()
);
pub(super) const SUMMARY_COLUMNS: &str = "c.id, c.make, c.model, c.year, c.price_cents, c.mileage_km, c.condition, c.status, c.photo, c.image_url, \
     c.town_id, \
     (SELECT count(*) FROM car_photos p WHERE p.car_id = c.id) AS photo_count";

/// Row shapes that carry the car's id.
pub(super) trait HasId {
    fn id(&self) -> i64;
}

impl HasId for SummaryRow {
    fn id(&self) -> i64 {
        self.id
    }
}

impl HasId for CarRow {
    fn id(&self) -> i64 {
        self.id
    }
}
