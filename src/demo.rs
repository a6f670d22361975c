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
use image::{Rgb, RgbImage};

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
                let mut tx = pool.begin().await?;
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
                let this_year = now.year();
                let mut rows = Vec::with_capacity(LISTINGS);
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
                    let draft = CarDraft {
                        make: make.into(),
                        model: model.into(),
                        year,
                        price_cents,
                        mileage_km,
                        condition,
                        description,
                        image_url: None,
                    };
                    let photo = &photos[variant(body, colour)];
                    let name = match media.save(photo).await {
                        Ok(name) => name,
                        Err(error) => {
                            delete_photos(media, &rows).await;
                            return Err(error.into());
                        }
                    };
                    rows.push(NewCar {
                        seller_id: seller_ids[n % seller_ids.len()],
                        draft,
                        photo: Some(name),
                        status,
                        listed: Stamp(now - Duration::minutes((LISTINGS - n) as i64 * 97)),
                    });
                }
                // One statement for every listing, as a group commit writes them.
                let sql = insert_cars_sql(rows.len(), Params::Numbered);
                let result = bind_new_cars!(sqlx::query(&sql), &rows)
                    .execute(&mut *tx)
                    .await;
                // Every demo photo is drawn at one size; its sizes are made.
                let result = match result {
                    Ok(_) => {
                        sqlx::query(
                            "UPDATE car_photos SET width = $1, height = $2 WHERE width IS NULL",
                        )
                        .bind(i64::from(photos[0].width))
                        .bind(i64::from(photos[0].height))
                        .execute(&mut *tx)
                        .await
                    }
                    Err(error) => Err(error),
                };
                let result = match result {
                    Ok(_) => tx.commit().await,
                    Err(error) => Err(error),
                };
                if let Err(error) = result {
                    delete_photos(media, &rows).await;
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
async fn delete_photos(media: &MediaStore, rows: &[NewCar]) {
    for name in rows.iter().filter_map(|car| car.photo.as_ref()) {
        media.delete(name).await;
    }
}

fn variant(body: Body, colour: usize) -> usize {
    (body as usize) * COLOURS.len() + colour
}

/// One JPEG per body style and colour.
fn render_photos() -> Vec<crate::media::CheckedPhoto> {
    let mut out = Vec::new();
    for body in [Body::Sedan, Body::Suv, Body::Hatch] {
        for (_, colour) in COLOURS {
            let img = draw_car(body, *colour);
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, image::ImageFormat::Jpeg)
                .expect("encoding a JPEG in memory cannot fail");
            // Through the upload's own pipeline, so the sizes pages load are made too.
            out.push(
                crate::media::check_photo(bytes.into_inner())
                    .expect("a drawn JPEG is a photo the pipeline reads"),
            );
        }
    }
    out
}

/// A simple side view of a car on a showroom floor, 640x400 (16:10).
fn draw_car(body: Body, colour: [u8; 3]) -> RgbImage {
    const W: u32 = 640;
    const H: u32 = 400;
    let mut img = RgbImage::new(W, H);
    let floor = 300;
    for y in 0..H {
        for x in 0..W {
            let px = if y < floor {
                let t = y as f32 / floor as f32;
                Rgb([
                    (226.0 - 30.0 * t) as u8,
                    (232.0 - 26.0 * t) as u8,
                    (240.0 - 20.0 * t) as u8,
                ])
            } else {
                let t = (y - floor) as f32 / (H - floor) as f32;
                Rgb([
                    (150.0 - 40.0 * t) as u8,
                    (154.0 - 40.0 * t) as u8,
                    (160.0 - 40.0 * t) as u8,
                ])
            };
            img.put_pixel(x, y, px);
        }
    }
    let shade = |c: [u8; 3], f: f32| {
        Rgb([
            (c[0] as f32 * f) as u8,
            (c[1] as f32 * f) as u8,
            (c[2] as f32 * f) as u8,
        ])
    };
    let (left, right, sill, shoulder, roof, cabin_l, cabin_r) = match body {
        Body::Sedan => (90, 550, 285, 215, 150, 200, 420),
        Body::Suv => (100, 540, 285, 190, 115, 185, 500),
        Body::Hatch => (130, 510, 285, 205, 140, 200, 490),
    };
    // Shadow under the car.
    fill_ellipse(
        &mut img,
        (left + right) / 2,
        sill + 12,
        (right - left) / 2 + 20,
        14,
        Rgb([96, 98, 104]),
    );
    // Lower body with rounded ends.
    for y in shoulder..sill {
        let inset = if y < shoulder + 18 {
            (shoulder + 18 - y) / 2
        } else {
            0
        };
        for x in (left + inset)..(right - inset) {
            let f = 0.75 + 0.35 * (1.0 - (y - shoulder) as f32 / (sill - shoulder) as f32);
            img.put_pixel(x, y, shade(colour, f.min(1.1)));
        }
    }
    // Cabin: a trapezoid with windows.
    for y in roof..shoulder {
        let t = (y - roof) as f32 / (shoulder - roof) as f32;
        let l = cabin_l as f32 - 45.0 * t;
        let r = cabin_r as f32 + 35.0 * t;
        for x in (l as u32)..(r as u32) {
            let window = y > roof + 10
                && (x as f32) > l + 12.0
                && (x as f32) < r - 12.0
                && !(((cabin_l + cabin_r) / 2)..((cabin_l + cabin_r) / 2 + 10)).contains(&x);
            let px = if window {
                Rgb([70, 96, 124])
            } else {
                shade(colour, 0.9)
            };
            img.put_pixel(x, y, px);
        }
    }
    // Lights and wheels.
    fill_ellipse(
        &mut img,
        right - 10,
        shoulder + 22,
        10,
        7,
        Rgb([255, 226, 150]),
    );
    fill_ellipse(&mut img, left + 8, shoulder + 22, 8, 7, Rgb([200, 40, 40]));
    for cx in [left + 85, right - 85] {
        fill_ellipse(&mut img, cx, sill, 42, 42, Rgb([28, 28, 30]));
        fill_ellipse(&mut img, cx, sill, 22, 22, Rgb([190, 194, 200]));
        fill_ellipse(&mut img, cx, sill, 6, 6, Rgb([90, 92, 96]));
    }
    img
}

fn fill_ellipse(img: &mut RgbImage, cx: u32, cy: u32, rx: u32, ry: u32, colour: Rgb<u8>) {
    let (w, h) = img.dimensions();
    for y in cy.saturating_sub(ry)..(cy + ry).min(h) {
        for x in cx.saturating_sub(rx)..(cx + rx).min(w) {
            let dx = (x as f32 - cx as f32) / rx as f32;
            let dy = (y as f32 - cy as f32) / ry as f32;
            if dx * dx + dy * dy <= 1.0 {
                img.put_pixel(x, y, colour);
            }
        }
    }
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
