//! Listing writes that touch both the database and the photo store, shared by
//! the server functions, the HTML form handlers and the REST API, so the rules
//! (owner only, no orphaned photo, no half-written listing) live in one place.

use super::{
    db,
    model::{Car, CarDraft, Status},
};
use crate::{
    auth::model::User,
    error::AppError,
    http::multipart::Upload,
    media::{self, CheckedPhoto},
    state::AppState,
};

/// The listing's stored photo name, if `user_id` is its seller; `Forbidden` otherwise.
pub async fn owned_car(
    state: &AppState,
    user_id: i64,
    car_id: i64,
) -> Result<Option<String>, AppError> {
    let (seller_id, photo) = db::find_owner(&state.db, car_id).await?;
    if seller_id != user_id {
        return Err(AppError::Forbidden(
            "Only the seller can change this listing.".into(),
        ));
    }
    Ok(photo)
}

fn listing_limit_key(seller: &User) -> String {
    format!("listings:{}", seller.id)
}

fn too_many_listings(wait: std::time::Duration) -> AppError {
    crate::http::limits::too_many("You have listed many cars in the last hour.", wait)
}

/// `TooManyRequests` when the seller has used up the hourly listing limit: checked before
/// an upload is read (and its photo decoded); `create_listing` takes the place.
pub fn check_listing_limit(state: &AppState, seller: &User) -> Result<(), AppError> {
    state
        .limiter
        .check(
            &listing_limit_key(seller),
            state.config.limits.listings_per_seller,
        )
        .map_err(too_many_listings)
}

/// Stores the listing with photos already put in the store (the first is the cover); if
/// the listing cannot be stored whole, it goes and so do the photos: nothing half-stored.
/// Returns the listing as stored.
pub async fn create_listing(
    state: &AppState,
    seller: &User,
    draft: &CarDraft,
    photos: &[db::NewPhoto],
) -> Result<Car, AppError> {
    if let Err(wait) = state.limiter.take(
        &listing_limit_key(seller),
        state.config.limits.listings_per_seller,
    ) {
        discard_stored(state, photos).await;
        return Err(too_many_listings(wait));
    }
    let (cover, others) = match photos.split_first() {
        Some((cover, others)) => (Some(cover), others),
        None => (None, &[][..]),
    };
    let car = match db::insert_car(
        &state.db,
        &state.new_cars,
        seller,
        draft,
        cover.map(|photo| photo.name.as_str()),
    )
    .await
    {
        Ok(car) => car,
        Err(error) => {
            discard_stored(state, photos).await;
            return Err(error);
        }
    };
    if let Some(cover) = cover {
        record_size(state, cover).await;
    }
    if !others.is_empty() {
        if let Err(error) = db::add_photos(&state.db, car.id, others).await {
            delete_listing(state, car.id).await?;
            discard_stored(state, others).await;
            return Err(error);
        }
    }
    tracing::info!(
        car_id = car.id,
        seller_id = seller.id,
        photos = photos.len(),
        "listing created"
    );
    Ok(car)
}

/// Replaces the listing's fields, and its photo when a new one is given
/// (the replaced file is removed only after the row points at the new one).
pub async fn update_listing(
    state: &AppState,
    car_id: i64,
    draft: &CarDraft,
    photo: Option<&CheckedPhoto>,
) -> Result<(), AppError> {
    let stored = store_photos(state, photo.map(std::slice::from_ref).unwrap_or_default()).await?;
    let photo_name = stored.first().map(|photo| photo.name.clone());
    match db::update_car(&state.db, car_id, draft, photo_name.as_deref()).await {
        Ok(replaced) => {
            if let Some(photo) = stored.first() {
                record_size(state, photo).await;
            }
            discard_photo(state, replaced).await;
            tracing::info!(car_id, "listing updated");
            Ok(())
        }
        Err(error) => {
            discard_photo(state, photo_name).await;
            Err(error)
        }
    }
}

/// Checks an uploaded photo. It counts against the uploader's hourly photo limit *before*
/// it is decoded (decoding is the costly part), and is then decoded in its turn. The inner
/// error is the user's message, naming the file.
pub async fn check_photo(
    state: &AppState,
    uploader: &User,
    upload: Upload,
) -> Result<Result<CheckedPhoto, String>, AppError> {
    state
        .limiter
        .take(
            &format!("photo-uploads:{}", uploader.id),
            state.config.limits.photo_uploads_per_user,
        )
        .map_err(|wait| {
            crate::http::limits::too_many("You have uploaded many photos in the last hour.", wait)
        })?;
    let Upload { file_name, bytes } = upload;
    Ok(media::check_photo_off_thread(bytes, &state.decoding)
        .await?
        .map_err(|message| Upload::about(file_name.as_deref(), &message)))
}

/// Puts checked photos in the store; if one cannot be stored, those stored go again.
pub async fn store_photos(
    state: &AppState,
    photos: &[CheckedPhoto],
) -> Result<Vec<db::NewPhoto>, AppError> {
    let mut stored = Vec::with_capacity(photos.len());
    for photo in photos {
        match state.media.save(photo).await {
            Ok(name) => stored.push(db::NewPhoto {
                name,
                width: photo.width,
                height: photo.height,
            }),
            Err(error) => {
                discard_stored(state, &stored).await;
                return Err(error);
            }
        }
    }
    Ok(stored)
}

/// Removes photos from the store that no listing took.
pub async fn discard_stored(state: &AppState, photos: &[db::NewPhoto]) {
    for photo in photos {
        state.media.delete(&photo.name).await;
    }
}

/// Adds photos already in the store after the listing's last one; if they cannot be
/// added, they leave the store again.
pub async fn add_photos(
    state: &AppState,
    car_id: i64,
    photos: &[db::NewPhoto],
) -> Result<(), AppError> {
    if let Err(error) = db::add_photos(&state.db, car_id, photos).await {
        discard_stored(state, photos).await;
        return Err(error);
    }
    tracing::info!(car_id, added = photos.len(), "photos added");
    Ok(())
}

/// Checks a photo uploaded ahead (with JavaScript, while a form is being filled in), puts
/// it in the store and keeps it waiting for a listing; returns its id and what was stored.
/// The inner error is the user's message, naming the file.
pub async fn upload_photo(
    state: &AppState,
    uploader: &User,
    upload: Upload,
) -> Result<Result<db::Upload, String>, AppError> {
    let photo = match check_photo(state, uploader, upload).await? {
        Ok(photo) => photo,
        Err(message) => return Ok(Err(message)),
    };
    let mut stored = store_photos(state, std::slice::from_ref(&photo)).await?;
    let Some(photo) = stored.pop() else {
        return Err(AppError::internal("storing an upload", "no photo stored"));
    };
    match db::insert_upload(&state.db, uploader.id, &photo).await {
        Ok(id) => Ok(Ok(db::Upload { id, photo })),
        Err(error) => {
            discard_stored(state, std::slice::from_ref(&photo)).await;
            Err(error)
        }
    }
}

/// The photos a form brings, in order: those it uploaded ahead (`uploads`, ids, taken for
/// it now), then the files it sent (already stored). When the uploads cannot be taken (one
/// is no longer waiting: `Conflict`), the sent files leave the store again.
pub async fn form_photos(
    state: &AppState,
    owner: &User,
    uploads: &[i64],
    sent: Vec<db::NewPhoto>,
) -> Result<Vec<db::NewPhoto>, AppError> {
    match db::claim_uploads(&state.db, owner.id, uploads).await {
        Ok(mut photos) => {
            photos.extend(sent);
            Ok(photos)
        }
        Err(error) => {
            discard_stored(state, &sent).await;
            Err(error)
        }
    }
}

/// Deletes the photos uploaded ahead that no listing took within `UPLOAD_KEEP_SECS`, from
/// the database and then from the store; returns how many. Safe with several app servers:
/// each photo is returned to one of them only, and never to one that a listing took.
pub async fn sweep_uploads(state: &AppState) -> Result<usize, AppError> {
    let keep = chrono::Duration::seconds(state.config.upload_keep_secs);
    let before = crate::db::Stamp(chrono::Utc::now() - keep);
    let names = db::sweep_uploads(&state.db, before).await?;
    for name in &names {
        state.media.delete(name).await;
    }
    if !names.is_empty() {
        tracing::info!(
            deleted = names.len(),
            "deleted photos uploaded but never added"
        );
    }
    Ok(names.len())
}

/// Sweeps for unused uploads now and then every `UPLOAD_SWEEP_SECS`, until the server stops,
/// and forgets the car changes no search index still needs (see `db::prune_car_changes`).
pub fn start_upload_sweep(state: &AppState) {
    let state = state.clone();
    let every = std::time::Duration::from_secs(state.config.upload_sweep_secs.unsigned_abs());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = sweep_uploads(&state).await {
                tracing::warn!(%error, "could not delete unused uploaded photos");
            }
            if let Err(error) = db::prune_car_changes(&state.db).await {
                tracing::warn!(%error, "could not prune the log of car changes");
            }
        }
    });
}

/// Removes one of the listing's photos, from the listing and then from the store.
pub async fn remove_photo(state: &AppState, car_id: i64, photo_id: i64) -> Result<(), AppError> {
    let name = db::remove_photo(&state.db, car_id, photo_id).await?;
    discard_photo(state, Some(name)).await;
    tracing::info!(car_id, photo_id, "photo removed");
    Ok(())
}

/// Marks the listing available, pending or sold (the caller has checked ownership).
pub async fn change_status(state: &AppState, car_id: i64, status: Status) -> Result<(), AppError> {
    db::set_status(&state.db, car_id, status).await?;
    tracing::info!(car_id, status = status.as_str(), "status changed");
    Ok(())
}

/// Deletes the listing and then its photos.
pub async fn delete_listing(state: &AppState, car_id: i64) -> Result<(), AppError> {
    for photo in db::delete_car(&state.db, car_id).await? {
        discard_photo(state, Some(photo)).await;
    }
    tracing::info!(car_id, "listing deleted");
    Ok(())
}

/// Records the shape of a photo the listing row now names (its photo 1, added by the row's
/// trigger without it). Should this fail, the photo is only shown without its sizes until
/// the background task ([`make_missing_sizes`]) makes them again: logged, not an error.
async fn record_size(state: &AppState, photo: &db::NewPhoto) {
    if let Err(error) = db::set_photo_size(&state.db, &photo.name, photo.width, photo.height).await
    {
        tracing::warn!(%error, name = photo.name, "could not record a photo's size");
    }
}

/// Makes the sizes of photos stored before sizes existed, a few at a time, until none is
/// left; returns how many it made. Safe with several app servers: each photo's sizes are
/// the same whoever makes them, and the last to record its shape writes what the others did.
pub async fn make_missing_sizes(state: &AppState) -> Result<usize, AppError> {
    let mut made = 0;
    loop {
        let names = db::unsized_photos(&state.db, 8).await?;
        if names.is_empty() {
            return Ok(made);
        }
        for name in names {
            // 0 x 0: the photo is gone from the store or unreadable; it is not tried again.
            let (width, height) = state
                .media
                .make_sizes(&name, &state.decoding)
                .await?
                .unwrap_or((0, 0));
            db::set_photo_size(&state.db, &name, width, height).await?;
            made += 1;
        }
    }
}

async fn discard_photo(state: &AppState, name: Option<String>) {
    if let Some(name) = name {
        state.media.delete(&name).await;
    }
}
