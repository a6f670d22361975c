//! The sell and edit forms post here as multipart (a photo upload works
//! without JavaScript). Same validation as the browser runs; a rejected form
//! goes back to its page with the user's input and the errors (POST-redirect-GET).

use super::{media, state::AppState};
use crate::{
    auth::api::session::user_from_session,
    cars::{
        api::{current_year, flash},
        db,
        model::CarForm,
    },
    error::{AppError, FieldErrors},
};
use axum::{
    extract::{multipart::MultipartError, Multipart, Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Json,
};
use tower_sessions::Session;

/// What the form sent: its text fields and, if one was chosen, the photo's bytes.
struct Submission {
    form: CarForm,
    photo: Option<Vec<u8>>,
}

enum Rejection {
    Invalid(FieldErrors),
    Other(AppError),
}

impl From<AppError> for Rejection {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Validation(errors) => Rejection::Invalid(errors),
            other => Rejection::Other(other),
        }
    }
}

fn too_large(limit: usize) -> Rejection {
    AppError::field(
        "photo",
        format!("The photo must be at most {} MB.", limit / (1024 * 1024)),
    )
    .into()
}

fn multipart_error(error: MultipartError, limit: usize) -> Rejection {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        Rejection::Other(AppError::BadRequest(
            "The form could not be read. Please try again.".into(),
        ))
    }
}

async fn read_submission(mut multipart: Multipart, limit: usize) -> Result<Submission, Rejection> {
    let mut form = CarForm::default();
    let mut photo = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" {
            // Read in chunks so the cap holds while streaming, not after buffering.
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
                if bytes.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                bytes.extend_from_slice(&chunk);
            }
            if !bytes.is_empty() {
                photo = Some(bytes);
            }
        } else {
            let text = field.text().await.map_err(|e| multipart_error(e, limit))?;
            form.set(&name, text);
        }
    }
    Ok(Submission { form, photo })
}

/// Validates the text fields and the photo together, so every problem is reported at once.
async fn validate(
    submission: Submission,
) -> Result<(crate::cars::model::CarDraft, Option<media::CheckedPhoto>), Rejection> {
    let mut errors = FieldErrors::new();
    let draft = submission
        .form
        .validate(current_year())
        .map_err(|e| errors.extend(e))
        .ok();
    let photo = match submission.photo {
        Some(bytes) => match tokio::task::spawn_blocking(move || media::check_photo(bytes)).await {
            Ok(Ok(photo)) => Some(photo),
            Ok(Err(message)) => {
                errors.insert("photo".into(), message);
                None
            }
            Err(_) => return Err(Rejection::Other(AppError::Internal)),
        },
        None => None,
    };
    match draft {
        Some(draft) if errors.is_empty() => Ok((draft, photo)),
        _ => Err(Rejection::Invalid(errors)),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Turns a rejection into a response: browsers go back to the form, other clients get a status.
async fn reject(
    rejection: Rejection,
    html: bool,
    session: &Session,
    car_id: Option<i64>,
    form: CarForm,
    back: String,
) -> Response {
    match rejection {
        Rejection::Invalid(errors) if html => {
            match flash::put(
                session,
                flash::Flash {
                    car_id,
                    form,
                    errors,
                },
            )
            .await
            {
                Ok(()) => Redirect::to(&back).into_response(),
                Err(error) => error.into_response(),
            }
        }
        Rejection::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "errors": errors })),
        )
            .into_response(),
        Rejection::Other(AppError::Unauthorized(_)) if html => {
            Redirect::to(&format!("/login?next={back}")).into_response()
        }
        Rejection::Other(error) => error.into_response(),
    }
}

pub async fn create_car(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let user = match user_from_session(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return reject(
                AppError::login_required().into(),
                html,
                &session,
                None,
                CarForm::default(),
                "/sell".into(),
            )
            .await
        }
        Err(error) => return error.into_response(),
    };
    let submission = match read_submission(multipart, state.config.max_upload_bytes).await {
        Ok(submission) => submission,
        Err(rejection) => {
            return reject(
                rejection,
                html,
                &session,
                None,
                CarForm::default(),
                "/sell".into(),
            )
            .await
        }
    };
    let form = submission.form.clone();
    let (draft, photo) = match validate(submission).await {
        Ok(valid) => valid,
        Err(rejection) => {
            return reject(rejection, html, &session, None, form, "/sell".into()).await
        }
    };
    let photo_name = match &photo {
        Some(photo) => match state.media.save(photo).await {
            Ok(name) => Some(name),
            Err(error) => return error.into_response(),
        },
        None => None,
    };
    match db::insert_car(&state.db, user.id, &draft, photo_name.as_deref()).await {
        Ok(id) => {
            tracing::info!(car_id = id, seller_id = user.id, "listing created");
            Redirect::to(&format!("/cars/{id}")).into_response()
        }
        Err(error) => {
            // Nothing half-written: the row failed, so the file goes too.
            if let Some(name) = photo_name {
                state.media.delete(&name).await;
            }
            reject(error.into(), html, &session, None, form, "/sell".into()).await
        }
    }
}

pub async fn update_car(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let html = wants_html(&headers);
    let Ok(id) = id.parse::<i64>() else {
        return AppError::not_found().into_response();
    };
    let back = format!("/cars/{id}/edit");
    let user = match user_from_session(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return reject(
                AppError::login_required().into(),
                html,
                &session,
                Some(id),
                CarForm::default(),
                back,
            )
            .await
        }
        Err(error) => return error.into_response(),
    };
    let old_photo = match db::find_owner(&state.db, id).await {
        Ok((seller_id, _)) if seller_id != user.id => {
            return AppError::Forbidden("Only the seller can edit this listing.".into())
                .into_response();
        }
        Ok((_, photo)) => photo,
        Err(error) => return error.into_response(),
    };
    let submission = match read_submission(multipart, state.config.max_upload_bytes).await {
        Ok(submission) => submission,
        Err(rejection) => {
            return reject(
                rejection,
                html,
                &session,
                Some(id),
                CarForm::default(),
                back,
            )
            .await
        }
    };
    let form = submission.form.clone();
    let (draft, photo) = match validate(submission).await {
        Ok(valid) => valid,
        Err(rejection) => return reject(rejection, html, &session, Some(id), form, back).await,
    };
    let photo_name = match &photo {
        Some(photo) => match state.media.save(photo).await {
            Ok(name) => Some(name),
            Err(error) => return error.into_response(),
        },
        None => None,
    };
    match db::update_car(&state.db, id, &draft, photo_name.as_deref()).await {
        Ok(()) => {
            if let (Some(_), Some(old)) = (&photo_name, old_photo) {
                state.media.delete(&old).await;
            }
            tracing::info!(car_id = id, "listing updated");
            Redirect::to(&format!("/cars/{id}")).into_response()
        }
        Err(error) => {
            if let Some(name) = photo_name {
                state.media.delete(&name).await;
            }
            reject(error.into(), html, &session, Some(id), form, back).await
        }
    }
}
