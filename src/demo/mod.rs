//! Demo data: sellers and a few hundred realistic listings with generated photos,
//! seeded into an empty database when DEMO_DATA=1.

use crate::cars::{
    db::{bind_new_cars, insert_cars_sql, NewCar, Params},
    model::{CarDraft, Condition, Status},
};
use crate::{
    db::{on_db, Db, Stamp},
    media::MediaStore,
};
use chrono::{Datelike, Duration, Utc};
mod draw;
mod specs;

use draw::View;

pub const DEMO_PASSWORD: &str = "autonexus-demo";
pub const DEMO_SELLERS: [&str; 5] = ["alice", "bob", "carol", "dmitri", "priya"];
const LISTINGS: usize = 240;

/// A model: its name, its price in dollars when new, and its body style.
type Model = (&'static str, i64, Body);

const CATALOGUE: &[(&str, &[Model])] = &[
    (
        "Toyota",
        &[
            ("Corolla", 23_000, Body::Sedan),
            ("Camry", 29_000, Body::Sedan),
            ("RAV4", 32_000, Body::Suv),
            ("Prius", 28_000, Body::Hatch),
        ],
    ),
    (
        "Honda",
        &[
            ("Civic", 25_000, Body::Sedan),
            ("Accord", 30_000, Body::Sedan),
            ("CR-V", 33_000, Body::Suv),
            ("Fit", 19_000, Body::Hatch),
        ],
    ),
    (
        "Ford",
        &[
            ("Focus", 21_000, Body::Hatch),
            ("Fusion", 25_000, Body::Sedan),
            ("Escape", 30_000, Body::Suv),
            ("Explorer", 40_000, Body::Suv),
        ],
    ),
    (
        "Chevrolet",
        &[
            ("Malibu", 26_000, Body::Sedan),
            ("Equinox", 29_000, Body::Suv),
            ("Bolt EV", 28_000, Body::Hatch),
        ],
    ),
    (
        "Volkswagen",
        &[
            ("Golf", 26_000, Body::Hatch),
            ("Jetta", 23_000, Body::Sedan),
            ("Tiguan", 31_000, Body::Suv),
            ("Passat", 28_000, Body::Sedan),
        ],
    ),
    (
        "BMW",
        &[
            ("3 Series", 45_000, Body::Sedan),
            ("5 Series", 58_000, Body::Sedan),
            ("X3", 49_000, Body::Suv),
        ],
    ),
    (
        "Mercedes-Benz",
        &[
            ("C-Class", 47_000, Body::Sedan),
            ("E-Class", 60_000, Body::Sedan),
            ("GLC", 50_000, Body::Suv),
        ],
    ),
    (
        "Audi",
        &[
            ("A3", 36_000, Body::Sedan),
            ("A4", 42_000, Body::Sedan),
            ("Q5", 47_000, Body::Suv),
        ],
    ),
    (
        "Nissan",
        &[
            ("Altima", 27_000, Body::Sedan),
            ("Rogue", 30_000, Body::Suv),
            ("Leaf", 30_000, Body::Hatch),
        ],
    ),
    (
        "Hyundai",
        &[
            ("Elantra", 22_000, Body::Sedan),
            ("Tucson", 29_000, Body::Suv),
            ("Ioniq 5", 44_000, Body::Suv),
        ],
    ),
    (
        "Kia",
        &[
            ("Rio", 18_000, Body::Hatch),
            ("Sportage", 29_000, Body::Suv),
            ("Niro", 28_000, Body::Hatch),
        ],
    ),
    (
        "Mazda",
        &[
            ("Mazda3", 24_000, Body::Hatch),
            ("CX-5", 30_000, Body::Suv),
            ("MX-5 Miata", 30_000, Body::Sedan),
        ],
    ),
    (
        "Subaru",
        &[
            ("Impreza", 23_000, Body::Hatch),
            ("Outback", 31_000, Body::Suv),
            ("Forester", 30_000, Body::Suv),
        ],
    ),
    (
        "Tesla",
        &[
            ("Model 3", 42_000, Body::Sedan),
            ("Model Y", 47_000, Body::Suv),
        ],
    ),
    (
        "Volvo",
        &[
            ("XC60", 48_000, Body::Suv),
            ("S60", 43_000, Body::Sedan),
            ("V60", 45_000, Body::Hatch),
        ],
    ),
    (
        "Lexus",
        &[("IS", 42_000, Body::Sedan), ("RX", 50_000, Body::Suv)],
    ),
    (
        "Jeep",
        &[
            ("Wrangler", 36_000, Body::Suv),
            ("Grand Cherokee", 42_000, Body::Suv),
            ("Compass", 28_000, Body::Suv),
        ],
    ),
    (
        "Peugeot",
        &[
            ("208", 21_000, Body::Hatch),
            ("308", 26_000, Body::Hatch),
            ("3008", 33_000, Body::Suv),
        ],
    ),
    (
        "Renault",
        &[
            ("Clio", 19_000, Body::Hatch),
            ("Megane", 24_000, Body::Hatch),
            ("Captur", 25_000, Body::Suv),
        ],
    ),
    (
        "Skoda",
        &[
            ("Octavia", 26_000, Body::Sedan),
            ("Fabia", 18_000, Body::Hatch),
            ("Kodiaq", 35_000, Body::Suv),
        ],
    ),
    (
        "Fiat",
        &[
            ("500", 17_000, Body::Hatch),
            ("Panda", 15_000, Body::Hatch),
            ("Tipo", 19_000, Body::Sedan),
        ],
    ),
    (
        "Porsche",
        &[
            ("911", 110_000, Body::Sedan),
            ("Macan", 62_000, Body::Suv),
            ("Cayenne", 80_000, Body::Suv),
        ],
    ),
    (
        "Mitsubishi",
        &[
            ("Outlander", 30_000, Body::Suv),
            ("Mirage", 16_000, Body::Hatch),
        ],
    ),
    (
        "MINI",
        &[
            ("Cooper", 26_000, Body::Hatch),
            ("Countryman", 32_000, Body::Suv),
        ],
    ),
];

const COLOURS: &[(&str, [u8; 3])] = &[
    ("silver", [176, 182, 190]),
    ("black", [36, 38, 44]),
    ("white", [236, 238, 240]),
    ("red", [178, 34, 40]),
    ("blue", [30, 78, 160]),
    ("grey", [104, 110, 120]),
    ("green", [38, 110, 76]),
    ("orange", [220, 112, 34]),
];

const NOTES: &[&str] = &[
    "One owner from new with a full service history.",
    "Recently serviced: new brakes and tyres all round.",
    "Non-smoker, garage kept, and never been in an accident.",
    "Two keys, owner's manual and all the paperwork.",
    "Timing belt replaced at the last service.",
    "Heated seats, reversing camera and Apple CarPlay.",
    "Small scratch on the rear bumper, otherwise very clean.",
    "Highway miles mostly; runs and drives perfectly.",
    "Fresh inspection passed last month.",
    "Winter tyres included on separate rims.",
];

#[derive(Clone, Copy, Debug)]
enum Body {
    Sedan,
    Suv,
    Hatch,
}

/// A small deterministic generator, so the demo data is the same on every machine.
/// The demo's towns, with how many listings each gets relative to the others: a regional
/// market (the 40 largest towns within 200 km of Chicago, so "near" searches have
/// neighbours to find) and the ten largest cities elsewhere, weighted by the square root
/// of their population (a big city has more cars for sale, not proportionally more).
fn demo_towns() -> Vec<(i64, u64)> {
    let towns = crate::geo::gazetteer();
    let chicago = towns
        .find("Chicago, Illinois", 1)
        .one()
        .expect("the gazetteer has Chicago");
    let near = |t: &crate::geo::Town| t.distance_km(chicago.latitude, chicago.longitude) <= 200.0;
    let all = towns.largest(towns.len());
    all.iter()
        .filter(|t| near(t))
        .take(40)
        .chain(all.iter().filter(|t| !near(t)).take(10))
        .map(|t| (t.id, f64::from(t.population).sqrt() as u64))
        .collect()
}

/// One of the demo's towns, as often as its weight says.
fn pick_town(rng: &mut Rng, towns: &[(i64, u64)]) -> i64 {
    let total: u64 = towns.iter().map(|(_, weight)| weight).sum();
    let mut at = rng.below(total);
    for &(id, weight) in towns {
        if at < weight {
            return id;
        }
        at -= weight;
    }
    towns[0].0
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Seeds sellers and listings when the database has no users yet.
pub async fn seed_if_empty(db: &Db, media: &MediaStore) -> Result<(), Box<dyn std::error::Error>> {
    let users: i64 = on_db!(
        db,
        read | pool
            | sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await
    )?;
    if users > 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // One hash for all demo sellers: hashing is deliberately slow.
    let hash = tokio::task::spawn_blocking(|| crate::auth::passwords::hash_blocking(DEMO_PASSWORD))
        .await?;
    let photos = tokio::task::spawn_blocking(render_photos).await?;

    // One transaction: the demo data appears whole or not at all.
    on_db!(
        db,
        write
            | pool
            | {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let now = Utc::now();
                let mut seller_ids = Vec::new();
                for (i, name) in DEMO_SELLERS.iter().enumerate() {
                    let id: i64 = sqlx::query_scalar("INSERT INTO users (username, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(name)
                .bind(format!("{name}@demo.autonexus.test"))
                .bind(&hash)
                .bind(Stamp(now - Duration::days(400 + i as i64)))
                .fetch_one(&mut *tx)
                .await?;
                    seller_ids.push(id);
                }

                let mut rng = Rng(0x5eed_cafe_f00d_beef);
                // The photos' own sequence: the listings are the same with or without them.
                let mut photo_rng = Rng(0x9a11_e2f0_70c0_1d5e);
                // And the specifications' own, for the same reason.
                let mut specs_rng = Rng(0x5bec_5eed_0dd5_a11e);
                let mut town_rng = Rng(0x70a7_de11_5eed_0c1e);
                let towns = demo_towns();
                let this_year = now.year();
                let mut rows = Vec::with_capacity(LISTINGS);
                // Every photo name saved, and each listing's photos with what they show.
                let mut saved = Vec::new();
                let mut more_photos = Vec::new();
                for n in 0..LISTINGS {
                    let (make, models) = CATALOGUE[n % CATALOGUE.len()];
                    let (model, new_price, body) = models[rng.below(models.len() as u64) as usize];
                    let age = rng.below(16) as i32;
                    let year = this_year - age;
                    let mileage_km = if age == 0 {
                        rng.below(40) as i64 * 10
                    } else {
                        i64::from(age) * (9_000 + rng.below(9_000) as i64)
                    };
                    // Roughly 12% a year of depreciation, rounded to a price people would ask.
                    let value =
                        new_price as f64 * 0.88f64.powi(age) * (0.9 + rng.below(20) as f64 / 100.0);
                    let price_cents = ((value / 50.0).round() as i64).max(10) * 50 * 100
                        - if rng.below(3) == 0 { 100 } else { 0 };
                    let condition = if age == 0 && mileage_km < 500 {
                        Condition::New
                    } else {
                        Condition::Used
                    };
                    let status = match rng.below(20) {
                        0 => Status::Sold,
                        1 => Status::Pending,
                        _ => Status::Available,
                    };
                    let colour = rng.below(COLOURS.len() as u64) as usize;
                    let description = format!(
                        "{year} {make} {model} in {}. {} {}",
                        COLOURS[colour].0,
                        NOTES[rng.below(NOTES.len() as u64) as usize],
                        NOTES[rng.below(NOTES.len() as u64) as usize]
                    );
                    let specs = specs::demo_specs(
                        &mut specs_rng,
                        &specs::DemoCar {
                            make,
                            model,
                            body,
                            new_price,
                            year,
                            colour: COLOURS[colour].0,
                            description: &description,
                            this_year,
                            this_month: now.month(),
                        },
                    );
                    let draft = CarDraft {
                        make: make.into(),
                        model: model.into(),
                        year,
                        price_cents,
                        mileage_km,
                        condition,
                        description,
                        image_url: None,
                        specs,
                        town_id: Some(pick_town(&mut town_rng, &towns)),
                    };
                    // 3 to 7 photos: the outside, then inside and details, and for one
                    // listing in four a close-up of its damage.
                    let count = 3 + photo_rng.below(4) as usize;
                    let mut views = VIEWS[..count].to_vec();
                    if photo_rng.below(4) == 0 {
                        views.push(View::Damage);
                    }
                    let mut names = Vec::with_capacity(views.len());
                    for view in views {
                        let key = match view {
                            View::Side => variant(body, colour),
                            View::Interior => colour % 3,
                            View::Engine => 0,
                            _ => colour,
                        };
                        match media.save(&photos[&(view, key)]).await {
                            Ok(name) => names.push((name, view)),
                            Err(error) => {
                                delete_photos(media, &saved).await;
                                return Err(error.into());
                            }
                        }
                    }
                    saved.extend(names.iter().map(|(name, _)| name.clone()));
                    let cover = names.first().map(|(name, _)| name.clone());
                    more_photos.extend(names);
                    rows.push(NewCar {
                        seller_id: seller_ids[n % seller_ids.len()],
                        draft,
                        photo: cover,
                        status,
                        listed: Stamp(now - Duration::minutes((LISTINGS - n) as i64 * 97)),
                    });
                }
                // One statement for every listing, as a group commit writes them.
                let sql = insert_cars_sql(rows.len(), Params::Numbered);
                let result = bind_new_cars!(sqlx::query(&sql), &rows)
                    .execute(&mut *tx)
                    .await;
                let result = match result {
                    Ok(_) => add_demo_photos(&mut tx, &more_photos, now).await,
                    Err(error) => Err(error),
                };
                let result = match result {
                    Ok(()) => tx.commit().await,
                    Err(error) => Err(error),
                };
                if let Err(error) = result {
                    delete_photos(media, &saved).await;
                    return Err(error.into());
                }
            }
    );
    tracing::info!(
        listings = LISTINGS,
        sellers = DEMO_SELLERS.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data seeded"
    );
    Ok(())
}

/// The photos saved for listings that were not written: the demo data leaves nothing
/// behind when it fails.
async fn delete_photos(media: &MediaStore, names: &[String]) {
    for name in names {
        media.delete(name).await;
    }
}

/// Each listing's photos after its first (which the listing's row added), with what each
/// shows; every demo photo is drawn at one size, whose sizes are made.
async fn add_demo_photos<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    photos: &[(String, View)],
    now: chrono::DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'e> &'e mut <DB as sqlx::Database>::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Stamp: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64, Option<String>): sqlx::FromRow<'r, DB::Row>,
{
    let cars: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT id, photo FROM cars")
        .fetch_all(&mut **tx)
        .await?;
    let car_of: std::collections::HashMap<String, i64> = cars
        .into_iter()
        .filter_map(|(id, photo)| photo.map(|photo| (photo, id)))
        .collect();
    let (mut car, mut position) = (0_i64, 0_i32);
    let mut rows = Vec::new();
    for (name, view) in photos {
        if let Some(id) = car_of.get(name) {
            // A listing's cover: its row is there already.
            (car, position) = (*id, 1);
        } else {
            position += 1;
            rows.push((car, position, name.as_str(), *view));
        }
    }
    for chunk in rows.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO car_photos (car_id, position, name, label, caption, created_at) VALUES ",
        );
        for (i, _) in chunk.iter().enumerate() {
            let p = i * 6;
            let _ = std::fmt::Write::write_fmt(
                &mut sql,
                format_args!(
                    "{}(${}, ${}, ${}, ${}, ${}, ${})",
                    if i > 0 { ", " } else { "" },
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6
                ),
            );
        }
        let mut query = sqlx::query(&sql);
        for (car, position, name, view) in chunk {
            let (label, caption) = what_it_shows(*view);
            query = query
                .bind(*car)
                .bind(*position)
                .bind(*name)
                .bind(label)
                .bind(caption)
                .bind(Stamp(now));
        }
        query.execute(&mut **tx).await?;
    }
    let (width, height) = (i64::from(DEMO_PHOTO_SIZE.0), i64::from(DEMO_PHOTO_SIZE.1));
    sqlx::query("UPDATE car_photos SET width = $1, height = $2, label = COALESCE(label, $3)")
        .bind(width)
        .bind(height)
        .bind("exterior")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A demo photo's label and caption.
fn what_it_shows(view: View) -> (&'static str, &'static str) {
    match view {
        View::Side | View::Front | View::Rear => ("exterior", ""),
        View::Interior => ("interior", ""),
        View::Wheel => ("wheels", ""),
        View::Engine => ("engine", ""),
        View::Damage => ("damage", "Scratch on the rear door"),
    }
}

fn variant(body: Body, colour: usize) -> usize {
    (body as usize) * COLOURS.len() + colour
}

/// The size demo photos are stored at.
const DEMO_PHOTO_SIZE: (u32, u32) = (960, 600);

/// The outside first, then inside and the details: a listing shows the first 3 to 6.
const VIEWS: [View; 6] = [
    View::Side,
    View::Front,
    View::Rear,
    View::Interior,
    View::Wheel,
    View::Engine,
];

/// Every demo photo, drawn once and put through the upload's own pipeline (so the sizes
/// pages load are made too), by what it shows and its variant: the body style and colour
/// from the side, the colour from the front, rear, wheel and damage, the trim inside.
fn render_photos() -> std::collections::HashMap<(View, usize), crate::media::CheckedPhoto> {
    let mut drawn = Vec::new();
    for body in [Body::Sedan, Body::Suv, Body::Hatch] {
        for (colour, (_, rgb)) in COLOURS.iter().enumerate() {
            drawn.push(((View::Side, variant(body, colour)), draw::side(body, *rgb)));
        }
    }
    for (colour, (_, rgb)) in COLOURS.iter().enumerate() {
        for view in [View::Front, View::Rear, View::Wheel, View::Damage] {
            drawn.push(((view, colour), draw::draw(view, Body::Sedan, *rgb, 0)));
        }
    }
    for trim in 0..3 {
        drawn.push(((View::Interior, trim), draw::interior(trim)));
    }
    drawn.push(((View::Engine, 0), draw::engine()));
    drawn
        .into_iter()
        .map(|(key, img)| {
            // Drawn at 640 x 400, kept at 960 x 600: wider than a card's 640 size, so the
            // demo's cards get the small WebP copies real photos have.
            let img = image::imageops::resize(
                &img,
                DEMO_PHOTO_SIZE.0,
                DEMO_PHOTO_SIZE.1,
                image::imageops::FilterType::Triangle,
            );
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, image::ImageFormat::Jpeg)
                .expect("encoding a JPEG in memory cannot fail");
            let photo = crate::media::check_photo(bytes.into_inner())
                .expect("a drawn JPEG is a photo the pipeline reads");
            (key, photo)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::seed_if_empty;
    use crate::{db::Db, media::MediaStore};

    /// The demo data appears whole or not at all: when its listings cannot be written,
    /// the photos saved for them go too, and so do its sellers.
    #[tokio::test]
    async fn a_failed_demo_seed_leaves_no_photos_or_sellers_behind() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let db = Db::connect(&url).await.unwrap();
        let Db::Sqlite { writer, .. } = &db else {
            unreachable!("a SQLite database")
        };
        sqlx::query(
            "CREATE TRIGGER refuse_cars BEFORE INSERT ON cars \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(writer)
        .await
        .unwrap();
        let photos = dir.path().join("media");
        let media = MediaStore::local(photos.clone()).await.unwrap();

        assert!(seed_if_empty(&db, &media).await.is_err());
        let left = std::fs::read_dir(&photos).unwrap().count();
        assert_eq!(left, 0, "photos left behind");
        let sellers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(writer)
            .await
            .unwrap();
        assert_eq!(sellers, 0);
    }
}
