//! Photos uploaded ahead by a seller's browser, waiting for a listing to take them. Each
//! leaves `uploaded_photos` by one `DELETE ... RETURNING`: to a listing ([`claim_uploads`])
//! or to the sweep ([`sweep_uploads`]), never both, however many app servers run.

use super::*;
use crate::cars::model::MAX_PHOTOS;

/// Photos one seller may have waiting at once: two listings' worth.
pub const MAX_WAITING_UPLOADS: usize = 2 * MAX_PHOTOS;

/// A photo waiting for a listing.
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: i64,
    pub photo: NewPhoto,
}

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: i64,
    name: String,
    width: i64,
    height: i64,
}

impl From<UploadRow> for Upload {
    fn from(row: UploadRow) -> Self {
        Upload {
            id: row.id,
            photo: NewPhoto {
                name: row.name,
                width: u32::try_from(row.width).unwrap_or(0),
                height: u32::try_from(row.height).unwrap_or(0),
            },
        }
    }
}

const UPLOAD_COLUMNS: &str =
    "id, name, CAST(width AS BIGINT) AS width, CAST(height AS BIGINT) AS height";

fn id_list(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records a photo put in the store for `owner`; returns its id. Refused (409, nothing
/// recorded) when the owner already has [`MAX_WAITING_UPLOADS`] waiting.
pub async fn insert_upload(db: &Db, owner: i64, photo: &NewPhoto) -> Result<i64, AppError> {
    let now = Stamp::now();
    on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO uploaded_photos (owner_id, name, width, height, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(owner)
                .bind(&photo.name)
                .bind(i64::from(photo.width))
                .bind(i64::from(photo.height))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let waiting: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM uploaded_photos WHERE owner_id = $1")
                        .bind(owner)
                        .fetch_one(&mut *tx)
                        .await?;
                if usize::try_from(waiting).unwrap_or(usize::MAX) > MAX_WAITING_UPLOADS {
                    tx.rollback().await?;
                    return Ok(Err(AppError::Conflict(format!(
                        "You have {MAX_WAITING_UPLOADS} photos waiting to be added to a \
                         listing: save your listing first, or wait a day for them to go."
                    ))));
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(id))
            }
            .await
    )?
}

/// The uploads of `owner` among `ids` that are still waiting, in the order of `ids`
/// (to show them again on a form sent back with errors).
pub async fn waiting_uploads(db: &Db, owner: i64, ids: &[i64]) -> Result<Vec<Upload>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploaded_photos WHERE owner_id = $1 AND id IN ({})",
        id_list(2, ids.len())
    );
    let rows: Vec<UploadRow> = on_db!(
        db,
        read | pool | {
            let mut query = sqlx::query_as(&sql).bind(owner);
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await
        }
    )?;
    Ok(in_order(rows, ids))
}

fn in_order(rows: Vec<UploadRow>, ids: &[i64]) -> Vec<Upload> {
    let mut uploads: Vec<Upload> = rows.into_iter().map(Upload::from).collect();
    uploads.sort_by_key(|upload| ids.iter().position(|id| *id == upload.id));
    uploads
}

/// Takes the uploads `ids` of `owner` for a listing, in the order of `ids`: all of them
/// or, when one is no longer waiting (swept, taken, someone else's), none (`Gone`).
/// The caller adds the photos to a listing, or deletes them from the store.
pub async fn claim_uploads(db: &Db, owner: i64, ids: &[i64]) -> Result<Vec<NewPhoto>, AppError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() || ids.len() > MAX_PHOTOS {
        return Err(AppError::BadRequest(
            "The photos sent with the form could not be read. Please try again.".into(),
        ));
    }
    let sql = format!(
        "DELETE FROM uploaded_photos WHERE owner_id = $1 AND id IN ({}) \
         RETURNING {UPLOAD_COLUMNS}",
        id_list(2, ids.len())
    );
    on_db!(
        db,
        write
            | pool
            | async {
                let mut tx = pool.begin_with(db.begin_write()).await?;
                let mut query = sqlx::query_as(&sql).bind(owner);
                for id in ids {
                    query = query.bind(id);
                }
                let rows: Vec<UploadRow> = query.fetch_all(&mut *tx).await?;
                if rows.len() != ids.len() {
                    tx.rollback().await?;
                    return Ok(Err(uploads_gone()));
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(Ok(in_order(rows, ids)
                    .into_iter()
                    .map(|upload| upload.photo)
                    .collect()))
            }
            .await
    )?
}

/// Some photos the form names are no longer waiting for it.
pub fn uploads_gone() -> AppError {
    AppError::Conflict(
        "Some of the photos you uploaded are no longer here (uploads are kept for a day). \
         Please choose them again."
            .into(),
    )
}

/// Removes every upload made before `before` and returns their names, for the caller to
/// delete from the store.
pub async fn sweep_uploads(db: &Db, before: Stamp) -> Result<Vec<String>, AppError> {
    Ok(on_db!(
        db,
        write
            | pool
            | sqlx::query_scalar(
                "DELETE FROM uploaded_photos WHERE created_at < $1 RETURNING name"
            )
            .bind(before)
            .fetch_all(pool)
            .await
    )?)
}
