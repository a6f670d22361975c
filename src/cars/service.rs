//! Listing writes that touch both the database and the photo store, shared by
//! the server functions, the HTML form handlers and the REST API, so the rules
//! (owner only, no orphaned photo, no half-written listing) live in one place.

use super::{
    db,
    model::{Car, CarDraft, Status},
};
use crate::{auth::model::User, error::AppError, media::CheckedPhoto, state::AppState};

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

/// Stores the photo (if any), then the listing; if the row fails, the photo goes too.
/// Returns the listing as stored.
pub async fn create_listing(
    state: &AppState,
    seller: &User,
    draft: &CarDraft,
    photo: Option<&CheckedPhoto>,
) -> Result<Car, AppError> {
    state
        .limiter
        .take(
            &listing_limit_key(seller),
            state.config.limits.listings_per_seller,
        )
        .map_err(too_many_listings)?;
    let photo_name = store_photo(state, photo).await?;
    match db::insert_car(
        &state.db,
        &state.new_cars,
        seller,
        draft,
        photo_name.as_deref(),
    )
    .await
    {
        Ok(car) => {
            tracing::info!(car_id = car.id, seller_id = seller.id, "listing created");
            Ok(car)
        }
        Err(error) => {
            discard_photo(state, photo_name).await;
            Err(error)
        }
    }
}

/// Replaces the listing's fields, and its photo when a new one is given
/// (the replaced file is removed only after the row points at the new one).
pub async fn update_listing(
    state: &AppState,
    car_id: i64,
    draft: &CarDraft,
    photo: Option<&CheckedPhoto>,
) -> Result<(), AppError> {
    let photo_name = store_photo(state, photo).await?;
    match db::update_car(&state.db, car_id, draft, photo_name.as_deref()).await {
        Ok(replaced) => {
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

async fn store_photo(
    state: &AppState,
    photo: Option<&CheckedPhoto>,
) -> Result<Option<String>, AppError> {
    match photo {
        Some(photo) => state.media.save(photo).await.map(Some),
        None => Ok(None),
    }
}

async fn discard_photo(state: &AppState, name: Option<String>) {
    if let Some(name) = name {
        state.media.delete(&name).await;
    }
}
