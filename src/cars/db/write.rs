//! Adding, changing and removing listings; on SQLite, new listings share transactions.

use super::*;

/// A listing to add: the seller's draft and the name its photo was stored under.
pub struct NewCar {
    pub seller_id: i64,
    pub draft: CarDraft,
    pub photo: Option<String>,
    /// Available for a new listing; the demo data also has pending and sold ones.
    pub status: Status,
    pub listed: Stamp,
}

/// New listings. On SQLite, those that sellers send at the same moment go in together,
/// one statement and one commit (see `group_commit`).
pub struct NewCars;

/// Where new listings go: on SQLite the queue in front of the writer connection, on
/// PostgreSQL (which commits concurrent transactions together itself) straight in.
#[derive(Debug)]
pub struct NewCarQueue(Option<WriteQueue<NewCars>>);

impl NewCarQueue {
    pub fn start(db: &Db) -> Self {
        NewCarQueue(match db {
            Db::Sqlite { writer, .. } => Some(WriteQueue::start(writer.clone())),
            Db::Postgres { .. } => None,
        })
    }
}

/// How a statement marks its parameters; both forms are bound in the same order.
#[derive(Clone, Copy, Debug)]
pub enum Params {
    /// `$1`, `$2`, …: PostgreSQL's form, which SQLite reads too.
    Numbered,
    /// `?`, SQLite only. sqlx asks SQLite for each parameter's name to place it, and
    /// SQLite finds a name by walking the statement's list of names, so a many-row
    /// `INSERT` with numbered parameters costs a walk per value. Unnamed ones are placed
    /// in order, with no list to walk.
    InOrder,
}

/// `INSERT` for `rows` listings, in the order [`bind_new_cars!`] binds their values.
pub fn insert_cars_sql(rows: usize, params: Params) -> String {
    let mut sql = String::from(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, \
         description, photo, image_url, status, created_at, updated_at, body_type, fuel, \
         transmission, drive, colour, power_kw, engine_cc, battery_wh, doors, seats, \
         previous_owners, first_registration, equipment, town_id, latitude, longitude) VALUES ",
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for value in 0..VALUES_PER_CAR {
            if value > 0 {
                sql.push_str(", ");
            }
            match params {
                Params::Numbered => {
                    let _ = write!(sql, "${}", row * VALUES_PER_CAR + value + 1);
                }
                Params::InOrder => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql.push_str(" RETURNING id");
    sql
}

/// The values bound for each [`NewCar`]: its own thirteen, its specification's, its town's.
pub(super) const VALUES_PER_CAR: usize = 13 + SPECS_VALUES + PLACE_VALUES;

/// The values [`bind_place!`] binds.
pub(super) const PLACE_VALUES: usize = 3;

/// Binds a draft's town: its id and the town's coordinates, copied from the gazetteer so
/// a distance search reads them from the car's row (all NULL when it has no town).
macro_rules! bind_place {
    ($query:expr, $town_id:expr) => {{
        let town = $town_id.and_then(|id| $crate::geo::gazetteer().town(id));
        $query
            .bind(town.map(|t| t.id))
            .bind(town.map(|t| t.latitude))
            .bind(town.map(|t| t.longitude))
    }};
}
pub(crate) use bind_place;

/// The values [`bind_specs!`] binds.
pub(super) const SPECS_VALUES: usize = 13;

/// Binds a [`Specs`](crate::cars::model::Specs)' values, in the order of [`SPECS_COLUMNS`].
macro_rules! bind_specs {
    ($query:expr, $specs:expr) => {{
        let specs = $specs;
        $query
            .bind(specs.body_type.map(|c| c.as_str()))
            .bind(specs.fuel.map(|c| c.as_str()))
            .bind(specs.transmission.map(|c| c.as_str()))
            .bind(specs.drive.map(|c| c.as_str()))
            .bind(specs.colour.map(|c| c.as_str()))
            .bind(specs.power_kw)
            .bind(specs.engine_cc)
            .bind(specs.battery_wh)
            .bind(specs.doors)
            .bind(specs.seats)
            .bind(specs.previous_owners)
            .bind(specs.first_registration.map(|month| month.to_string()))
            .bind(specs.equipment.to_db())
    }};
}
pub(crate) use bind_specs;

/// Binds each [`NewCar`]'s values, in the order [`insert_cars_sql`] lists them.
macro_rules! bind_new_cars {
    ($query:expr, $rows:expr) => {{
        let mut query = $query;
        for car in $rows {
            query = query
                .bind(car.seller_id)
                .bind(&car.draft.make)
                .bind(&car.draft.model)
                .bind(car.draft.year)
                .bind(car.draft.price_cents)
                .bind(car.draft.mileage_km)
                .bind(car.draft.condition.as_str())
                .bind(&car.draft.description)
                .bind(&car.photo)
                .bind(&car.draft.image_url)
                .bind(car.status.as_str())
                // The listing's time is both its created and updated time.
                .bind(car.listed)
                .bind(car.listed);
            query = $crate::cars::db::bind_specs!(query, &car.draft.specs);
            query = $crate::cars::db::bind_place!(query, car.draft.town_id);
        }
        query
    }};
}
pub(crate) use bind_new_cars;

impl Rows for NewCars {
    type Row = NewCar;
    type Added = i64;

    fn add<'c>(
        conn: &'c mut sqlx::SqliteConnection,
        rows: &'c [NewCar],
    ) -> BoxFuture<'c, Result<Vec<i64>, sqlx::Error>> {
        Box::pin(async move {
            let sql = insert_cars_sql(rows.len(), Params::InOrder);
            let mut ids: Vec<i64> = bind_new_cars!(sqlx::query_scalar(&sql), rows)
                .fetch_all(conn)
                .await?;
            // One INSERT gives its rows rising ids in the order of its VALUES (each is one
            // more than the largest before it), but RETURNING does not promise that order.
            ids.sort_unstable();
            Ok(ids)
        })
    }
}

/// Inserts a listing for `seller` and returns it as stored: every field but the id is
/// what was written, so the caller's answer needs no second read.
pub async fn insert_car(
    db: &Db,
    queue: &NewCarQueue,
    seller: &User,
    car: &CarDraft,
    photo: Option<&str>,
) -> Result<Car, AppError> {
    let new = NewCar {
        seller_id: seller.id,
        draft: car.clone(),
        photo: photo.map(str::to_owned),
        status: Status::Available,
        listed: Stamp::now(),
    };
    let (new, id) = match &queue.0 {
        Some(queue) => queue.add(new).await?,
        None => {
            let sql = insert_cars_sql(1, Params::Numbered);
            let id = on_db!(
                db,
                write
                    | pool
                    | bind_new_cars!(sqlx::query_scalar(&sql), [&new])
                        .fetch_one(pool)
                        .await
            )?;
            (new, id)
        }
    };
    let NewCar {
        draft,
        photo,
        status,
        listed,
        ..
    } = new;
    Ok(Car {
        id,
        seller_id: seller.id,
        seller_username: seller.username.clone(),
        make: draft.make,
        model: draft.model,
        year: draft.year,
        price_cents: draft.price_cents,
        mileage_km: draft.mileage_km,
        condition: draft.condition,
        description: draft.description,
        photo_url: photo.as_deref().map(media_url),
        image_url: draft.image_url,
        status,
        created_at: listed.0,
        updated_at: listed.0,
        specs: draft.specs,
        town: draft.town_id.and_then(Place::of),
    })
}

/// The column updates of an edit, binding `$1`..`$26` (the photo is `$9`: kept when null;
/// the specification from `$11`, the town from `$24`).
pub(super) const UPDATE_CAR_SET: &str = "make = $1, model = $2, year = $3, price_cents = $4, mileage_km = $5, \
     condition = $6, description = $7, image_url = $8, photo = COALESCE($9, cars.photo), updated_at = $10, \
     body_type = $11, fuel = $12, transmission = $13, drive = $14, colour = $15, power_kw = $16, \
     engine_cc = $17, battery_wh = $18, doors = $19, seats = $20, previous_owners = $21, \
     first_registration = $22, equipment = $23, town_id = $24, latitude = $25, longitude = $26";

macro_rules! bind_car_update {
    ($query:expr, $car:expr, $photo:expr, $id:expr) => {
        bind_place!(
            bind_specs!(
                $query
                    .bind(&$car.make)
                    .bind(&$car.model)
                    .bind($car.year)
                    .bind($car.price_cents)
                    .bind($car.mileage_km)
                    .bind($car.condition.as_str())
                    .bind(&$car.description)
                    .bind(&$car.image_url)
                    .bind($photo)
                    .bind(Stamp::now()),
                &$car.specs
            ),
            $car.town_id
        )
        .bind($id)
    };
}

/// `FOR UPDATE` where the engine has row locks (PostgreSQL); SQLite's single writer
/// already runs one write transaction at a time.
pub(super) fn row_lock(db: &Db) -> &'static str {
    match db {
        Db::Postgres { .. } => " FOR UPDATE",
        Db::Sqlite { .. } => "",
    }
}

/// Replaces a listing's fields, and its cover photo when `photo` is given. Returns the
/// photo that was replaced, for the caller to remove from the store. The old name is read
/// in the same transaction as the write, with the listing locked, so edits racing to
/// replace the photo each learn the name they really replaced: no file is orphaned.
pub async fn update_car(
    db: &Db,
    id: i64,
    car: &CarDraft,
    photo: Option<&str>,
) -> Result<Option<String>, AppError> {
    let select = format!("SELECT photo FROM cars WHERE id = $1{}", row_lock(db));
    let update = format!("UPDATE cars SET {UPDATE_CAR_SET} WHERE id = $27");
    let replaced: Option<Option<String>> = on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let old: Option<Option<String>> = sqlx::query_scalar(&select)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if old.is_some() {
                    bind_car_update!(sqlx::query(&update), car, photo, id)
                        .execute(&mut *tx)
                        .await?;
                    if let Some(name) = photo {
                        // The new photo takes the cover's place (or is the first one).
                        let renamed = sqlx::query(
                            "UPDATE car_photos SET name = $1 WHERE car_id = $2 AND position = 1",
                        )
                        .bind(name)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        if renamed.rows_affected() == 0 {
                            sqlx::query(
                                "INSERT INTO car_photos (car_id, position, name, created_at) \
                                 VALUES ($1, 1, $2, $3)",
                            )
                            .bind(id)
                            .bind(name)
                            .bind(Stamp::now())
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(old)
            }
            .await
    )?;
    let replaced = replaced.ok_or_else(AppError::not_found)?;
    Ok(replaced.filter(|_| photo.is_some()))
}

pub async fn set_status(db: &Db, id: i64, status: Status) -> Result<(), AppError> {
    let result = on_db!(
        db,
        write
            | pool
            | sqlx::query("UPDATE cars SET status = $1, updated_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(Stamp::now())
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
    )?;
    if result == 0 {
        return Err(AppError::not_found());
    }
    Ok(())
}

/// Deletes the listing, and with it its photos' rows; returns the photos' names, for the
/// caller to remove from the store.
pub async fn delete_car(db: &Db, id: i64) -> Result<Vec<String>, AppError> {
    let select = format!("SELECT photo FROM cars WHERE id = $1{}", row_lock(db));
    let names: Option<Vec<String>> = on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let cover: Option<Option<String>> = sqlx::query_scalar(&select)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(cover) = cover else {
                    return Ok(None);
                };
                let mut names: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM car_photos WHERE car_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                sqlx::query("DELETE FROM cars WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                names.extend(cover);
                names.sort_unstable();
                names.dedup();
                Ok::<_, sqlx::Error>(Some(names))
            }
            .await
    )?;
    names.ok_or_else(AppError::not_found)
}
