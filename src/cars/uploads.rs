//! `POST /photo-uploads`: the sell and edit forms' island uploads each photo as soon as it
//! is chosen (with a progress bar), one request per photo; the form then sends only the
//! ids, in the seller's order (`uploaded` fields), and the listing takes those photos.
//! Photos no listing takes are deleted a day later (`service::sweep_uploads`).
//!
//! Signed-in sessions only: the browser's same-origin check guards it like the forms.
//! Answers 201 with `{id, thumbnail_url, width, height}`, or an error status with the
//! message to show next to the photo as plain text.

use super::{rpc::small_photo_url, service};
use crate::{
    auth::rpc::session::user_from_session,
    error::AppError,
    http::multipart::{read_submission, ReadError, Upload},
    state::AppState,
};
use axum::{
    extract::{Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use tower_sessions::Session;

/// The multipart field that carries the photo.
pub const FILE_FIELD: &str = "photo";

pub async fn upload_photo(
    State(state): State<AppState>,
    session: Session,
    multipart: Multipart,
) -> Response {
    let user = match user_from_session(&state, &session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return AppError::Unauthorized("Please log in again to upload photos.".into())
                .into_response()
        }
        Err(error) => return error.into_response(),
    };
    let limit = state.config.max_upload_bytes;
    let upload = match read_submission(multipart, Some(FILE_FIELD), limit).await {
        Ok(submission) => submission.file,
        Err(ReadError::TooLarge(name)) => {
            let text = Upload::about(
                name.as_deref(),
                &format!("the photo must be at most {} MB.", limit / (1024 * 1024)),
            );
            return (StatusCode::PAYLOAD_TOO_LARGE, text).into_response();
        }
        Err(ReadError::Malformed) => {
            return AppError::BadRequest("The photo could not be read. Please try again.".into())
                .into_response()
        }
    };
    let Some(upload) = upload else {
        return AppError::BadRequest("Choose a photo (JPEG, PNG or WebP) to upload.".into())
            .into_response();
    };
    match service::upload_photo(&state, &user, upload).await {
        Ok(Ok(upload)) => (
            StatusCode::CREATED,
            Json(serde_json::json!({
                "id": upload.id,
                "thumbnail_url": small_photo_url(&upload.photo.name, upload.photo.width),
                "width": upload.photo.width,
                "height": upload.photo.height,
            })),
        )
            .into_response(),
        Ok(Err(message)) => (StatusCode::BAD_REQUEST, message).into_response(),
        Err(error) => error.into_response(),
    }
}

/// The ids in a form's `uploaded` fields, in order; `None` when one is not an id.
pub fn uploaded_ids(fields: &[(String, String)]) -> Option<Vec<i64>> {
    fields
        .iter()
        .filter(|(name, _)| name == "uploaded")
        .map(|(_, value)| value.trim().parse::<i64>().ok().filter(|id| *id > 0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::uploaded_ids;

    #[test]
    fn a_form_names_its_uploads_in_order_and_anything_else_is_refused() {
        let fields = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            uploaded_ids(&fields(&[
                ("make", "Saab"),
                ("uploaded", "7"),
                ("uploaded", " 3")
            ])),
            Some(vec![7, 3])
        );
        assert_eq!(uploaded_ids(&fields(&[("make", "Saab")])), Some(vec![]));
        assert_eq!(uploaded_ids(&fields(&[("uploaded", "x")])), None);
        assert_eq!(uploaded_ids(&fields(&[("uploaded", "-1")])), None);
    }
}
