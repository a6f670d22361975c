//! Car server functions: read the session, parse input, call the query layer, map errors.

use super::model::{Car, CarFilters, CarForm, CarPage, CarSummary};
use crate::error::{AppError, FieldErrors};
use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};

/// A listing with what the viewer may do with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarView {
    pub car: Car,
    pub is_owner: bool,
    /// Its photos in the seller's order (none when it has only an image URL or nothing).
    pub photos: Vec<super::gallery::GalleryPhoto>,
}

/// What the sell / edit form starts with: the listing's values, or what the
/// user typed last time together with what was wrong with it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CarFormState {
    pub form: CarForm,
    pub errors: FieldErrors,
    pub current_year: i32,
    /// The photo the listing has now (edit only).
    pub photo_url: Option<String>,
    pub title: Option<String>,
    /// The listing's photos, in order (edit only).
    pub photos: Vec<ManagedPhoto>,
    /// What became of the last change to the photos made without JavaScript.
    pub photos_message: Option<PhotosMessage>,
    /// Photos uploaded ahead for a form that came back with errors, still waiting.
    pub uploads: Vec<UploadedPhoto>,
}

/// A photo uploaded ahead, waiting for the form to be sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UploadedPhoto {
    pub id: i64,
    pub thumbnail: String,
}

/// One of a listing's photos, as its seller manages it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedPhoto {
    pub id: i64,
    pub position: i64,
    pub thumbnail: String,
    pub label: Option<super::model::PhotoLabel>,
    pub caption: String,
}

/// "2 photos added." or why they were not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotosMessage {
    pub error: bool,
    pub text: String,
}

#[cfg(feature = "ssr")]
pub mod flash {
    //! The sell / edit form's last rejected input, kept in the session for one
    //! redirect so a form posted without JavaScript can show its errors.
    use super::{AppError, CarForm, FieldErrors};
    use serde::{Deserialize, Serialize};
    use tower_sessions::Session;

    const KEY: &str = "car_form_flash";

    #[derive(Serialize, Deserialize)]
    pub struct Flash {
        pub car_id: Option<i64>,
        pub form: CarForm,
        pub errors: FieldErrors,
        /// The photos the form had uploaded ahead (ids), to show again.
        #[serde(default)]
        pub uploads: Vec<i64>,
    }

    /// The most a flash may add to a session, in bytes of JSON. The session row is read
    /// on every request for up to two weeks: a rejected form must not make it large.
    pub const MAX_BYTES: usize = 32 * 1024;

    /// Keeps the rejected form for the next page: each field cut to its limit, and the
    /// form left out altogether (the errors kept) should it still be over `MAX_BYTES`.
    pub async fn put(session: &Session, flash: Flash) -> Result<(), AppError> {
        let mut flash = Flash {
            form: flash.form.truncated(),
            ..flash
        };
        flash.uploads.truncate(super::super::model::MAX_PHOTOS);
        if serde_json::to_vec(&flash).map_or(true, |json| json.len() > MAX_BYTES) {
            flash.form = CarForm::default();
        }
        session
            .insert(KEY, flash)
            .await
            .map_err(|e| AppError::internal("keeping the form in the session", e))
    }

    pub async fn take(session: &Session, car_id: Option<i64>) -> Option<Flash> {
        let flash: Flash = session.get(KEY).await.ok().flatten()?;
        if flash.car_id != car_id {
            return None;
        }
        let _ = session.remove_value(KEY).await;
        Some(flash)
    }

    const PHOTOS_KEY: &str = "car_photos_flash";

    /// What became of a change to a listing's photos, for its edit page to say once.
    pub async fn put_photos(
        session: &Session,
        car_id: i64,
        message: super::PhotosMessage,
    ) -> Result<(), AppError> {
        let mut message = message;
        message.text = message.text.chars().take(2_000).collect();
        session
            .insert(PHOTOS_KEY, (car_id, message))
            .await
            .map_err(|e| AppError::internal("keeping a message in the session", e))
    }

    pub async fn take_photos(session: &Session, car_id: i64) -> Option<super::PhotosMessage> {
        let (id, message): (i64, super::PhotosMessage) =
            session.get(PHOTOS_KEY).await.ok().flatten()?;
        if id != car_id {
            return None;
        }
        let _ = session.remove_value(PHOTOS_KEY).await;
        Some(message)
    }
}

#[cfg(feature = "ssr")]
pub fn current_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

#[server(prefix = "/rpc", endpoint = "cars/list", input = Json)]
pub async fn list_cars(filters: CarFilters) -> Result<CarPage, AppError> {
    let state = crate::state::app_state()?;
    let filters = filters.bounded();
    crate::error::with_status(
        super::db::list_available_cars(&state.db, &state.list_cache, &filters).await,
    )
}

#[server(prefix = "/rpc", endpoint = "cars/get")]
pub async fn get_car(id: i64) -> Result<CarView, AppError> {
    use crate::auth::rpc::session;
    crate::error::with_status(
        async move {
            let state = crate::state::app_state()?;
            let car = super::db::find_car_by_id(&state.db, id)
                .await?
                .ok_or_else(|| {
                    AppError::NotFound("This listing does not exist or has been removed.".into())
                })?;
            let viewer =
                session::user_from_session(&state, &session::current_session().await?).await?;
            let is_owner = viewer.is_some_and(|u| u.id == car.seller_id);
            let photos = super::db::photos_of(&state.db, &[id])
                .await?
                .remove(&id)
                .unwrap_or_default()
                .into_iter()
                .map(gallery_photo)
                .collect();
            Ok(CarView {
                car,
                is_owner,
                photos,
            })
        }
        .await,
    )
}

/// The URL of a photo's smallest size (320 pixels wide, WebP), or of the photo itself.
#[cfg(feature = "ssr")]
fn small_photo(photo: &super::model::Photo) -> String {
    small_photo_url(&photo.name, photo.width)
}

/// The URL of the smallest size of the photo stored as `name`, `width` pixels wide.
#[cfg(feature = "ssr")]
pub fn small_photo_url(name: &str, width: u32) -> String {
    let name = if width > 320 {
        crate::media::renditions::rendition_name(name, 320, true)
    } else {
        name.to_owned()
    };
    super::db::media_url(&name)
}

/// A stored photo with the URLs of its sizes.
#[cfg(feature = "ssr")]
fn gallery_photo(photo: super::model::Photo) -> super::gallery::GalleryPhoto {
    use super::db::media_url;
    super::gallery::GalleryPhoto {
        picture: crate::media::picture(&photo.name, photo.width, photo.height, media_url),
        full: media_url(&photo.name),
        thumbnail: small_photo(&photo),
        label: photo.label,
        caption: photo.caption,
    }
}

#[server(prefix = "/rpc", endpoint = "cars/mine")]
pub async fn list_my_cars() -> Result<Vec<CarSummary>, AppError> {
    use crate::auth::rpc::session;
    crate::error::with_status(
        async move {
            let state = crate::state::app_state()?;
            let user = session::require_user(&state).await?;
            super::db::list_cars_by_seller(&state.db, user.id).await
        }
        .await,
    )
}

/// The starting state of the sell form (`id` = None) or of a listing's edit form.
#[server(prefix = "/rpc", endpoint = "cars/form_state")]
pub async fn load_car_form(id: Option<i64>) -> Result<CarFormState, AppError> {
    use crate::auth::rpc::session;
    crate::error::with_status(
        async move {
            let state = crate::state::app_state()?;
            let session = session::current_session().await?;
            let user = session::user_from_session(&state, &session)
                .await?
                .ok_or_else(AppError::login_required)?;
            let mut result = CarFormState {
                current_year: current_year(),
                ..Default::default()
            };
            if let Some(id) = id {
                let car = super::db::find_car_by_id(&state.db, id)
                    .await?
                    .ok_or_else(|| {
                        AppError::NotFound(
                            "This listing does not exist or has been removed.".into(),
                        )
                    })?;
                if car.seller_id != user.id {
                    return Err(AppError::Forbidden(
                        "Only the seller can edit this listing.".into(),
                    ));
                }
                result.form = CarForm::from_car(&car);
                result.title = Some(car.title());
                result.photo_url = car.photo_url;
                result.photos = super::db::photos_of(&state.db, &[id])
                    .await?
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|photo| ManagedPhoto {
                        id: photo.id,
                        position: photo.position,
                        thumbnail: small_photo(&photo),
                        label: photo.label,
                        caption: photo.caption,
                    })
                    .collect();
                result.photos_message = flash::take_photos(&session, id).await;
            }
            if let Some(flash) = flash::take(&session, id).await {
                result.form = flash.form;
                result.errors = flash.errors;
                result.uploads = super::db::waiting_uploads(&state.db, user.id, &flash.uploads)
                    .await?
                    .into_iter()
                    .map(|upload| UploadedPhoto {
                        id: upload.id,
                        thumbnail: small_photo_url(&upload.photo.name, upload.photo.width),
                    })
                    .collect();
            }
            Ok(result)
        }
        .await,
    )
}

/// The signed-in user, if they are the listing's seller; returns its photo name.
#[cfg(feature = "ssr")]
async fn require_owner(
    state: &crate::state::AppState,
    id: i64,
) -> Result<Option<String>, AppError> {
    let user = crate::auth::rpc::session::require_user(state).await?;
    super::service::owned_car(state, user.id, id).await
}

#[server(prefix = "/rpc", endpoint = "cars/set_status")]
pub async fn set_car_status(id: i64, status: String) -> Result<(), AppError> {
    crate::error::with_status(
        async move {
            let state = crate::state::app_state()?;
            let status = super::model::Status::parse(&status).ok_or_else(|| {
                AppError::field("status", "Status must be available, pending or sold.")
            })?;
            require_owner(&state, id).await?;
            super::service::change_status(&state, id, status).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "cars/delete")]
pub async fn delete_car(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async move {
            let state = crate::state::app_state()?;
            require_owner(&state, id).await?;
            super::service::delete_listing(&state, id).await?;
            leptos_axum::redirect("/my-listings");
            Ok(())
        }
        .await,
    )
}

/// The makes and models of the cars for sale (make, model), for the sell and edit forms'
/// suggestions.
#[server(prefix = "/rpc", endpoint = "cars/known_models")]
pub async fn known_models() -> Result<Vec<(String, String)>, AppError> {
    let state = crate::state::app_state()?;
    super::db::known_models(&state.db, &state.list_cache).await
}
