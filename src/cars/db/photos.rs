//! A listing's photos: reading them, adding, removing, putting in order, describing.
//! Every change runs in one transaction with the listing locked, keeps the positions
//! 1..n, and leaves the cover's name (position 1) in `cars.photo`, where the cards read it.

use super::*;
use crate::cars::model::{Photo, PhotoLabel, MAX_PHOTOS};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct PhotoRow {
    car_id: i64,
    id: i64,
    position: i64,
    name: String,
    label: Option<String>,
    caption: String,
    width: Option<i64>,
    height: Option<i64>,
}

impl From<PhotoRow> for Photo {
    fn from(row: PhotoRow) -> Self {
        Photo {
            id: row.id,
            position: row.position,
            name: row.name,
            label: row.label.as_deref().and_then(PhotoLabel::parse),
            caption: row.caption,
            width: row.width.and_then(|w| u32::try_from(w).ok()).unwrap_or(0),
            height: row.height.and_then(|h| u32::try_from(h).ok()).unwrap_or(0),
        }
    }
}

const PHOTO_COLUMNS: &str =
    "car_id, id, CAST(position AS BIGINT) AS position, name, label, caption, \
     CAST(width AS BIGINT) AS width, CAST(height AS BIGINT) AS height";

/// A photo just put in the store, to record: its name and its upright shape in pixels.
#[derive(Clone, Debug)]
pub struct NewPhoto {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// The cover is photo 1: its name goes in `cars.photo` (`$1` the car, `$2` the time).
const SYNC_COVER: &str = "UPDATE cars SET photo = (SELECT name FROM car_photos \
     WHERE car_id = $1 ORDER BY position, id LIMIT 1), updated_at = $2 WHERE id = $1";

/// The photos of each of `cars`, in order (a car without photos is left out).
pub async fn photos_of(db: &Db, cars: &[i64]) -> Result<HashMap<i64, Vec<Photo>>, AppError> {
    if cars.is_empty() {
        return Ok(HashMap::new());
    }
    let mut placeholders = String::new();
    for n in 1..=cars.len() {
        let _ = write!(placeholders, "{}${n}", if n > 1 { ", " } else { "" });
    }
    let sql = format!(
        "SELECT {PHOTO_COLUMNS} FROM car_photos WHERE car_id IN ({placeholders}) \
         ORDER BY car_id, position, id"
    );
    let rows: Vec<PhotoRow> = on_db!(
        db,
        read | pool | {
            let mut query = sqlx::query_as(&sql);
            for car in cars {
                query = query.bind(car);
            }
            query.fetch_all(pool).await
        }
    )?;
    let mut photos: HashMap<i64, Vec<Photo>> = HashMap::new();
    for row in rows {
        photos.entry(row.car_id).or_default().push(row.into());
    }
    Ok(photos)
}

/// Why a change of photos cannot be made to the listing as it is now.
fn conflict(message: &str) -> AppError {
    AppError::Conflict(message.into())
}

/// Adds photos (already stored) after the listing's last one. Refused, and nothing
/// added, when they would take the listing past [`MAX_PHOTOS`].
pub async fn add_photos(db: &Db, car: i64, names: &[NewPhoto]) -> Result<(), AppError> {
    let lock = format!("SELECT id FROM cars WHERE id = $1{}", row_lock(db));
    let now = Stamp::now();
    on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let found: Option<i64> = sqlx::query_scalar(&lock)
                    .bind(car)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Ok(Err(AppError::not_found()));
                }
                let count: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM car_photos WHERE car_id = $1")
                        .bind(car)
                        .fetch_one(&mut *tx)
                        .await?;
                let count = usize::try_from(count).unwrap_or(MAX_PHOTOS);
                if count + names.len() > MAX_PHOTOS {
                    return Ok(Err(conflict(&room_message(count))));
                }
                for (at, photo) in names.iter().enumerate() {
                    sqlx::query(
                    "INSERT INTO car_photos (car_id, position, name, created_at, width, height) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(car)
                .bind(i32::try_from(count + at + 1).unwrap_or(i32::MAX))
                .bind(&photo.name)
                .bind(now)
                .bind(i64::from(photo.width))
                .bind(i64::from(photo.height))
                .execute(&mut *tx)
                .await?;
                }
                sqlx::query(SYNC_COVER)
                    .bind(car)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(()))
            }
            .await
    )?
}

/// "A listing has at most 20 photos; this one has 18, so 2 more can be added."
pub fn room_message(count: usize) -> String {
    let room = MAX_PHOTOS.saturating_sub(count);
    match room {
        _ if count == 0 => format!("A listing has at most {MAX_PHOTOS} photos: choose {MAX_PHOTOS} or fewer."),
        0 => format!("A listing has at most {MAX_PHOTOS} photos, and this one has them all."),
        1 => format!(
            "A listing has at most {MAX_PHOTOS} photos; this one has {count}, so 1 more can be added."
        ),
        _ => format!(
            "A listing has at most {MAX_PHOTOS} photos; this one has {count}, so {room} more can be added."
        ),
    }
}

/// Removes one photo; the ones after it move up (the next becomes the cover when the cover
/// goes). Returns its name, for the caller to remove from the store.
pub async fn remove_photo(db: &Db, car: i64, photo: i64) -> Result<String, AppError> {
    let lock = format!("SELECT id FROM cars WHERE id = $1{}", row_lock(db));
    let now = Stamp::now();
    on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let found: Option<i64> = sqlx::query_scalar(&lock)
                    .bind(car)
                    .fetch_optional(&mut *tx)
                    .await?;
                let gone: Option<(String, i64)> = match found {
                    None => None,
                    Some(_) => {
                        sqlx::query_as(
                            "DELETE FROM car_photos WHERE id = $1 AND car_id = $2 \
                             RETURNING name, CAST(position AS BIGINT)",
                        )
                        .bind(photo)
                        .bind(car)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                };
                let Some((name, position)) = gone else {
                    return Ok(Err(AppError::not_found()));
                };
                sqlx::query(
                    "UPDATE car_photos SET position = position - 1 \
                     WHERE car_id = $1 AND position > $2",
                )
                .bind(car)
                .bind(i32::try_from(position).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await?;
                sqlx::query(SYNC_COVER)
                    .bind(car)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(name))
            }
            .await
    )?
}

/// Puts the photos in `order` (every one of the listing's photos, by id, once), then
/// `cover` first. Either may be left out.
pub async fn arrange_photos(
    db: &Db,
    car: i64,
    order: Option<&[i64]>,
    cover: Option<i64>,
) -> Result<(), AppError> {
    let lock = format!("SELECT id FROM cars WHERE id = $1{}", row_lock(db));
    let now = Stamp::now();
    on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let found: Option<i64> = sqlx::query_scalar(&lock)
                    .bind(car)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Ok(Err(AppError::not_found()));
                }
                let current: Vec<i64> = sqlx::query_scalar(
                    "SELECT id FROM car_photos WHERE car_id = $1 ORDER BY position, id",
                )
                .bind(car)
                .fetch_all(&mut *tx)
                .await?;
                let mut arranged = match order {
                    Some(order) => {
                        let (mut given, mut have) = (order.to_vec(), current.clone());
                        given.sort_unstable();
                        have.sort_unstable();
                        if given != have {
                            return Ok(Err(conflict(
                                "The order must list every photo of this listing once, by id.",
                            )));
                        }
                        order.to_vec()
                    }
                    None => current,
                };
                if let Some(cover) = cover {
                    let Some(at) = arranged.iter().position(|id| *id == cover) else {
                        return Ok(Err(conflict(
                            "The cover must be one of this listing's photos.",
                        )));
                    };
                    let cover = arranged.remove(at);
                    arranged.insert(0, cover);
                }
                for (at, id) in arranged.iter().enumerate() {
                    sqlx::query("UPDATE car_photos SET position = $1 WHERE id = $2")
                        .bind(i32::try_from(at + 1).unwrap_or(i32::MAX))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(SYNC_COVER)
                    .bind(car)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(()))
            }
            .await
    )?
}

/// Sets what a photo shows and its caption; returns the photo as stored.
pub async fn describe_photo(
    db: &Db,
    car: i64,
    photo: i64,
    label: Option<PhotoLabel>,
    caption: &str,
) -> Result<Photo, AppError> {
    let sql = format!(
        "UPDATE car_photos SET label = $1, caption = $2 WHERE id = $3 AND car_id = $4 \
         RETURNING {PHOTO_COLUMNS}"
    );
    let row: Option<PhotoRow> = on_db!(
        db,
        write
            | pool
            | sqlx::query_as(&sql)
                .bind(label.map(PhotoLabel::as_str))
                .bind(caption)
                .bind(photo)
                .bind(car)
                .fetch_optional(pool)
                .await
    )?;
    row.map(Photo::from).ok_or_else(AppError::not_found)
}

/// Records the shape of the photo stored as `name` (its sizes are made).
pub async fn set_photo_size(db: &Db, name: &str, width: u32, height: u32) -> Result<(), AppError> {
    on_db!(
        db,
        write
            | pool
            | sqlx::query("UPDATE car_photos SET width = $1, height = $2 WHERE name = $3")
                .bind(i64::from(width))
                .bind(i64::from(height))
                .bind(name)
                .execute(pool)
                .await
                .map(|_| ())
    )?;
    Ok(())
}

/// Up to `limit` photos whose sizes are not made yet (stored before sizes existed), oldest first.
pub async fn unsized_photos(db: &Db, limit: i64) -> Result<Vec<String>, AppError> {
    Ok(on_db!(
        db,
        read | pool
            | sqlx::query_scalar(
                "SELECT name FROM car_photos WHERE width IS NULL ORDER BY id LIMIT $1"
            )
            .bind(limit)
            .fetch_all(pool)
            .await
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A change to a listing's photos reads before it writes. While another connection
    /// (the session store's) holds the write lock, it waits its turn, and then goes through
    /// rather than failing as "database is locked".
    #[tokio::test]
    async fn a_photo_change_waits_for_another_connections_write() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("locks.db").display());
        let db = Db::connect(&url).await.unwrap();
        let Db::Sqlite { pool, .. } = &db else {
            unreachable!("a SQLite URL")
        };
        sqlx::query(
            "INSERT INTO users (username, password_hash, created_at) VALUES ('ann', 'x', '2026')",
        )
        .execute(pool)
        .await
        .unwrap();
        let car: i64 = sqlx::query_scalar(
            "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, \
             created_at, updated_at) VALUES (1, 'Audi', 'A4', 2018, 100, 1, '2026', '2026') \
             RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap();

        let mut other = pool.acquire().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *other)
            .await
            .unwrap();
        sqlx::query("UPDATE users SET password_hash = 'y'")
            .execute(&mut *other)
            .await
            .unwrap();
        let adding = tokio::spawn({
            let db = db.clone();
            async move {
                let photo = NewPhoto {
                    name: "a.webp".into(),
                    width: 640,
                    height: 480,
                };
                add_photos(&db, car, &[photo]).await
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!adding.is_finished(), "waits while the other write goes on");
        sqlx::query("COMMIT").execute(&mut *other).await.unwrap();
        adding
            .await
            .unwrap()
            .expect("the photo is added after the other write");
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT name FROM car_photos WHERE car_id = $1")
                .bind(car)
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(stored, ["a.webp"]);
    }
}
