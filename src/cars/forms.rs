//! The sell and edit forms post here as multipart (a photo upload works
//! without JavaScript). Same validation as the browser runs; a rejected form
//! goes back to its page with the user's input and the errors (POST-redirect-GET).

use super::{
    model::{CarDraft, CarForm},
    rpc::{current_year, flash},
    service,
};
use crate::{
    auth::{model::User, rpc::session::user_from_session},
    error::{AppError, FieldErrors},
    http::multipart::{read_submission, ReadError, Upload},
    media,
    state::AppState,
};
use axum::{
    extract::{Multipart, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use tower_sessions::Session;

/// Validates the text fields and the photo together, so every problem is reported at once.
/// `photo_field` names the field photo errors are reported under.
///
/// A photo counts against the uploader's hourly photo limit *before* it is decoded
/// (decoding is the costly part, on create and on edit alike), and is then decoded in
/// one of the server's few decoding slots.
pub async fn validate(
    state: &AppState,
    uploader: &User,
    form: &CarForm,
    photo: Option<Upload>,
    photo_field: &str,
) -> Result<(CarDraft, Option<media::CheckedPhoto>), AppError> {
    let mut errors = FieldErrors::new();
    let draft = form
        .validate(current_year())
        .map_err(|e| errors.extend(e))
        .ok();
    let photo = match photo {
        Some(upload) => match service::check_photo(state, uploader, upload).await? {
            Ok(photo) => Some(photo),
            Err(message) => {
                errors.insert(photo_field.into(), message);
                None
            }
        },
        None => None,
    };
    match draft {
        Some(draft) if errors.is_empty() => Ok((draft, photo)),
        _ => Err(AppError::Validation(errors)),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// One form post: where it came from, and how to answer a failure.
struct Post<'a> {
    html: bool,
    session: &'a Session,
    car_id: Option<i64>,
    back: String,
    limit: usize,
}

impl Post<'_> {
    /// Browsers go back to the form (errors kept in the session); other clients get a status.
    async fn reject(&self, error: AppError, form: CarForm) -> Response {
        match error {
            AppError::Validation(errors) if self.html => {
                let flash = flash::Flash {
                    car_id: self.car_id,
                    form,
                    errors,
                };
                match flash::put(self.session, flash).await {
                    Ok(()) => Redirect::to(&self.back).into_response(),
                    Err(error) => error.into_response(),
                }
            }
            AppError::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "errors": errors })),
            )
                .into_response(),
            AppError::Unauthorized(_) if self.html => {
                Redirect::to(&format!("/login?next={}", self.back)).into_response()
            }
            other => other.into_response(),
        }
    }

    fn read_error(&self, error: ReadError) -> AppError {
        match error {
            ReadError::TooLarge(file_name) => AppError::field(
                "photo",
                Upload::about(
                    file_name.as_deref(),
                    &format!(
                        "the photo must be at most {} MB.",
                        self.limit / (1024 * 1024)
                    ),
                ),
            ),
            ReadError::Malformed => {
                AppError::BadRequest("The form could not be read. Please try again.".into())
            }
        }
    }

    /// Reads and validates the form; `base` is what fields not sent keep.
    async fn read(
        &self,
        state: &AppState,
        user: &User,
        multipart: Multipart,
        base: CarForm,
    ) -> Result<(CarForm, CarDraft, Option<media::CheckedPhoto>), (AppError, CarForm)> {
        let submission = read_submission(multipart, Some("photo"), self.limit)
            .await
            .map_err(|e| (self.read_error(e), base.clone()))?;
        let mut form = base;
        for (name, value) in submission.fields {
            form.set(&name, value);
        }
        match validate(state, user, &form, submission.file, "photo").await {
            Ok((draft, photo)) => Ok((form, draft, photo)),
            Err(error) => Err((error, form)),
        }
    }
}

pub async fn create_car(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let post = Post {
        html: wants_html(&headers),
        session: &session,
        car_id: None,
        back: "/sell".into(),
        limit: state.config.max_upload_bytes,
    };
    let user = match user_from_session(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return post
                .reject(AppError::login_required(), CarForm::default())
                .await
        }
        Err(error) => return error.into_response(),
    };
    // The hourly listing limit is known before the upload is read and its photo decoded.
    if let Err(error) = service::check_listing_limit(&state, &user) {
        return post.reject(error, CarForm::default()).await;
    }
    let (form, draft, photo) = match post
        .read(&state, &user, multipart, CarForm::default())
        .await
    {
        Ok(read) => read,
        Err((error, form)) => return post.reject(error, form).await,
    };
    match service::create_listing(&state, &user, &draft, photo.as_ref()).await {
        Ok(car) => Redirect::to(&format!("/cars/{}", car.id)).into_response(),
        Err(error) => post.reject(error, form).await,
    }
}

pub async fn update_car(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return AppError::not_found().into_response();
    };
    let post = Post {
        html: wants_html(&headers),
        session: &session,
        car_id: Some(id),
        back: format!("/cars/{id}/edit"),
        limit: state.config.max_upload_bytes,
    };
    let user = match user_from_session(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return post
                .reject(AppError::login_required(), CarForm::default())
                .await
        }
        Err(error) => return error.into_response(),
    };
    if let Err(error) = service::owned_car(&state, user.id, id).await {
        return error.into_response();
    }
    let (form, draft, photo) = match post
        .read(&state, &user, multipart, CarForm::default())
        .await
    {
        Ok(read) => read,
        Err((error, form)) => return post.reject(error, form).await,
    };
    match service::update_listing(&state, id, &draft, photo.as_ref()).await {
        Ok(()) => Redirect::to(&format!("/cars/{id}")).into_response(),
        Err(error) => post.reject(error, form).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_browser_checks_the_photo_size_the_server_takes() {
        let config = crate::config::Config::from_lookup(|_| None).unwrap();
        assert_eq!(
            config.max_upload_bytes,
            super::super::model::MAX_PHOTO_MB * 1024 * 1024
        );
    }
}
