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
    server::{media::CheckedPhoto, state::AppState},
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
            &format!("listings:{}", seller.id),
            state.config.limits.listings_per_seller,
        )
        .map_err(|wait| {
            crate::server::limits::too_many("You have listed many cars in the last hour.", wait)
        })?;
    let photo_name = store_photo(state, photo).await?;
    match db::insert_car(&state.db, seller, draft, photo_name.as_deref()).await {
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
/// (the old file is removed only after the row points at the new one).
pub async fn update_listing(
    state: &AppState,
    car_id: i64,
    draft: &CarDraft,
    photo: Option<&CheckedPhoto>,
    old_photo: Option<String>,
) -> Result<(), AppError> {
    let photo_name = store_photo(state, photo).await?;
    match db::update_car(&state.db, car_id, draft, photo_name.as_deref()).await {
        Ok(()) => {
            if photo_name.is_some() {
                discard_photo(state, old_photo).await;
            }
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

/// Deletes the listing and then its photo.
pub async fn delete_listing(state: &AppState, car_id: i64) -> Result<(), AppError> {
    let photo = db::delete_car(&state.db, car_id).await?;
    discard_photo(state, photo).await;
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
