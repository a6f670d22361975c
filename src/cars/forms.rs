//! The sell and edit forms post here as multipart (a photo upload works
//! without JavaScript). Same validation as the browser runs; a rejected form
//! goes back to its page with the user's input and the errors (POST-redirect-GET).

use super::{
    model::{CarDraft, CarForm},
    rpc::{current_year, flash, PhotosMessage},
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

/// A multipart form whose files are photos, each checked and put in the store as it
/// arrives (counted against the hourly limit, decoded in its turn, the upload freed), two
/// at a time: a form of many photos never holds them all, and the server's two decoding
/// slots both work for it.
pub struct PhotoForm {
    pub fields: Vec<(String, String)>,
    /// The photos stored, in the order they were sent. The caller adds them to a listing,
    /// or removes them from the store (`service::discard_stored`).
    pub photos: Vec<super::db::NewPhoto>,
    /// What was wrong with the files that were refused, each naming its file.
    pub problems: Vec<String>,
}

/// Why a photo form could not be read (nothing it sent is left in the store).
pub enum PhotoFormError {
    Read(ReadError),
    App(AppError),
}

impl From<AppError> for PhotoFormError {
    fn from(error: AppError) -> Self {
        PhotoFormError::App(error)
    }
}

/// Photos checked at once for one form: each of the server's decoding slots.
const PHOTOS_IN_FLIGHT: usize = media::DECODE_SLOTS;

type Checked = (usize, Result<Result<super::db::NewPhoto, String>, AppError>);

/// Reads a multipart form whose files come in `file_field`, for a listing that has `had`
/// photos: more than it has room for is refused (409) before they are decoded.
pub async fn read_photo_form(
    state: &AppState,
    uploader: &User,
    mut multipart: Multipart,
    file_field: &str,
    had: usize,
) -> Result<PhotoForm, PhotoFormError> {
    let limit = state.config.max_upload_bytes;
    let mut fields = Vec::new();
    let mut in_flight = tokio::task::JoinSet::<Checked>::new();
    let mut done: Vec<Checked> = Vec::new();
    let mut sent = 0;
    let outcome: Result<(), PhotoFormError> = async {
        let malformed = |_| PhotoFormError::Read(ReadError::Malformed);
        while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name != file_field {
                let text = field.text().await.map_err(malformed)?;
                fields.push((name, text));
                continue;
            }
            // Room for this one in the listing, and a free hand to check it.
            if had + sent >= super::model::MAX_PHOTOS {
                return Err(AppError::Conflict(super::db::room_message(had)).into());
            }
            while in_flight.len() >= PHOTOS_IN_FLIGHT {
                match in_flight.join_next().await {
                    Some(Ok(checked)) => done.push(checked),
                    Some(Err(error)) => tracing::error!(%error, "a photo check task failed"),
                    None => break,
                }
            }
            let upload = crate::http::multipart::read_file(&mut field, limit)
                .await
                .map_err(PhotoFormError::Read)?;
            if upload.bytes.is_empty() {
                continue;
            }
            let (state, uploader, at) = (state.clone(), uploader.clone(), sent);
            sent += 1;
            in_flight.spawn(async move {
                let checked = match service::check_photo(&state, &uploader, upload).await {
                    Ok(Ok(photo)) => service::store_photos(&state, std::slice::from_ref(&photo))
                        .await
                        .map(|mut stored| stored.pop().ok_or_else(|| "not stored".to_owned())),
                    Ok(Err(message)) => Ok(Err(message)),
                    Err(error) => Err(error),
                };
                (at, checked)
            });
        }
        Ok(())
    }
    .await;
    // Every photo sent is answered for, whatever happened to the form.
    while let Some(joined) = in_flight.join_next().await {
        match joined {
            Ok(checked) => done.push(checked),
            Err(error) => tracing::error!(%error, "a photo check task failed"),
        }
    }
    done.sort_by_key(|(at, _)| *at);
    let mut form = PhotoForm {
        fields,
        photos: Vec::new(),
        problems: Vec::new(),
    };
    let mut failed = outcome.err();
    for (_, checked) in done {
        match checked {
            Ok(Ok(photo)) => form.photos.push(photo),
            Ok(Err(message)) => form.problems.push(message),
            Err(error) => {
                failed.get_or_insert(PhotoFormError::App(error));
            }
        }
    }
    match failed {
        Some(error) => {
            service::discard_stored(state, &form.photos).await;
            Err(error)
        }
        None => Ok(form),
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
        self.reject_with_uploads(error, form, Vec::new()).await
    }

    /// As [`Post::reject`], and the form's page shows the photos uploaded ahead again.
    async fn reject_with_uploads(
        &self,
        error: AppError,
        form: CarForm,
        uploads: Vec<i64>,
    ) -> Response {
        match error {
            AppError::Validation(errors) if self.html => {
                let flash = flash::Flash {
                    car_id: self.car_id,
                    form,
                    errors,
                    uploads,
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
    // Several photos: each is checked as it arrives; the first is the cover.
    let read = match read_photo_form(&state, &user, multipart, "photo", 0).await {
        Ok(read) => read,
        Err(PhotoFormError::Read(error)) => {
            return post
                .reject(post.read_error(error), CarForm::default())
                .await
        }
        Err(PhotoFormError::App(AppError::Conflict(message))) => {
            return post
                .reject(AppError::field("photo", message), CarForm::default())
                .await
        }
        Err(PhotoFormError::App(error)) => return post.reject(error, CarForm::default()).await,
    };
    // Photos uploaded ahead (with JavaScript) come as ids, in the seller's order.
    let Some(uploads) = super::uploads::uploaded_ids(&read.fields) else {
        service::discard_stored(&state, &read.photos).await;
        let error = AppError::BadRequest("The form could not be read. Please try again.".into());
        return post.reject(error, CarForm::default()).await;
    };
    let mut form = CarForm::default();
    for (name, value) in read.fields {
        form.set(&name, value);
    }
    let mut errors = FieldErrors::new();
    let draft = form
        .validate(current_year())
        .map_err(|e| errors.extend(e))
        .ok();
    if !read.problems.is_empty() {
        errors.insert("photo".into(), read.problems.join(" "));
    } else if uploads.len() + read.photos.len() > super::model::MAX_PHOTOS {
        errors.insert("photo".into(), super::db::room_message(0));
    }
    let draft = match draft {
        Some(draft) if errors.is_empty() => draft,
        _ => {
            service::discard_stored(&state, &read.photos).await;
            return post
                .reject_with_uploads(AppError::Validation(errors), form, uploads)
                .await;
        }
    };
    let photos = match service::form_photos(&state, &user, &uploads, read.photos).await {
        Ok(photos) => photos,
        Err(error) => {
            let error = match error {
                AppError::Conflict(message) => AppError::field("photo", message),
                other => other,
            };
            return post.reject_with_uploads(error, form, uploads).await;
        }
    };
    match service::create_listing(&state, &user, &draft, &photos).await {
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

/// The edit page's photo forms (they work without JavaScript): each answers with a
/// redirect back to the photos, and a message for the page to say once.
async fn photos_answer(
    session: &Session,
    car_id: i64,
    anchor: &str,
    message: PhotosMessage,
) -> Response {
    if let Err(error) = flash::put_photos(session, car_id, message).await {
        return error.into_response();
    }
    Redirect::to(&format!("/cars/{car_id}/edit#{anchor}")).into_response()
}

/// The signed-in seller of listing `id` (its edit page's forms), or the answer to give.
async fn photo_owner(
    state: &AppState,
    session: &Session,
    id: &str,
) -> Result<(User, i64), Response> {
    let Ok(id) = id.parse::<i64>() else {
        return Err(AppError::not_found().into_response());
    };
    let user = match user_from_session(state, session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(Redirect::to(&format!("/login?next=/cars/{id}/edit")).into_response())
        }
        Err(error) => return Err(error.into_response()),
    };
    service::owned_car(state, user.id, id)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((user, id))
}

fn photos_error(text: impl Into<String>) -> PhotosMessage {
    PhotosMessage {
        error: true,
        text: text.into(),
    }
}

/// `POST /cars/{id}/photos`: the "Add photos" form, several files at once. The photos that
/// can be read are added; each that cannot is named with the reason.
pub async fn add_photos(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: Session,
    multipart: Multipart,
) -> Response {
    let (user, id) = match photo_owner(&state, &session, &id).await {
        Ok(owner) => owner,
        Err(answer) => return answer,
    };
    let had = match super::db::photos_of(&state.db, &[id]).await {
        Ok(mut photos) => photos.remove(&id).map_or(0, |photos| photos.len()),
        Err(error) => return error.into_response(),
    };
    let limit = state.config.max_upload_bytes;
    let read = match read_photo_form(&state, &user, multipart, "photos", had).await {
        Ok(read) => read,
        Err(PhotoFormError::Read(ReadError::TooLarge(name))) => {
            let text = Upload::about(
                name.as_deref(),
                &format!("the photo must be at most {} MB.", limit / (1024 * 1024)),
            );
            return photos_answer(&session, id, "photos", photos_error(text)).await;
        }
        Err(PhotoFormError::Read(ReadError::Malformed)) => {
            let text = "The form could not be read. Please try again.";
            return photos_answer(&session, id, "photos", photos_error(text)).await;
        }
        Err(PhotoFormError::App(error @ AppError::Internal(_))) => return error.into_response(),
        Err(PhotoFormError::App(error)) => {
            return photos_answer(&session, id, "photos", photos_error(error.to_string())).await
        }
    };
    // Photos uploaded ahead (with JavaScript) come as ids, in the seller's order, first.
    let Some(uploads) = super::uploads::uploaded_ids(&read.fields) else {
        service::discard_stored(&state, &read.photos).await;
        let text = "The form could not be read. Please try again.";
        return photos_answer(&session, id, "photos", photos_error(text)).await;
    };
    if read.photos.is_empty() && read.problems.is_empty() && uploads.is_empty() {
        let text = "Choose at least one photo (JPEG, PNG or WebP) to add.";
        return photos_answer(&session, id, "photos", photos_error(text)).await;
    }
    let photos = match service::form_photos(&state, &user, &uploads, read.photos).await {
        Ok(photos) => photos,
        Err(error) => {
            return match error {
                AppError::Internal(_) => error.into_response(),
                error => {
                    photos_answer(&session, id, "photos", photos_error(error.to_string())).await
                }
            };
        }
    };
    let added = photos.len();
    if added > 0 {
        if let Err(error) = service::add_photos(&state, id, &photos).await {
            return match error {
                AppError::Internal(_) => error.into_response(),
                error => {
                    photos_answer(&session, id, "photos", photos_error(error.to_string())).await
                }
            };
        }
    }
    let mut text = match added {
        0 => String::new(),
        1 => "1 photo added.".to_owned(),
        n => format!("{n} photos added."),
    };
    for problem in &read.problems {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(problem);
    }
    let message = PhotosMessage {
        error: !read.problems.is_empty(),
        text,
    };
    photos_answer(&session, id, "photos", message).await
}

/// What a photo's form on the edit page asks for.
#[derive(serde::Deserialize)]
pub struct PhotoChange {
    action: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    caption: String,
}

/// `POST /cars/{id}/photos/{photo}`: one photo's buttons on the edit page: Move up, Move
/// down, Make cover, Remove, and Save (its label and caption).
pub async fn change_photo(
    State(state): State<AppState>,
    Path((id, photo)): Path<(String, String)>,
    session: Session,
    axum::Form(change): axum::Form<PhotoChange>,
) -> Response {
    let (_, id) = match photo_owner(&state, &session, &id).await {
        Ok(owner) => owner,
        Err(answer) => return answer,
    };
    let Ok(photo) = photo.parse::<i64>() else {
        return AppError::not_found().into_response();
    };
    let photos = match super::db::photos_of(&state.db, &[id]).await {
        Ok(mut photos) => photos.remove(&id).unwrap_or_default(),
        Err(error) => return error.into_response(),
    };
    let Some(at) = photos.iter().position(|p| p.id == photo) else {
        return AppError::NotFound("This photo is no longer part of the listing.".into())
            .into_response();
    };
    let mut order: Vec<i64> = photos.iter().map(|p| p.id).collect();
    let done = match change.action.as_str() {
        "up" | "down" | "cover" => {
            let (text, cover) = match change.action.as_str() {
                "up" if at > 0 => {
                    order.swap(at, at - 1);
                    (format!("Photo moved to position {at}."), None)
                }
                "down" if at + 1 < order.len() => {
                    order.swap(at, at + 1);
                    (format!("Photo moved to position {}.", at + 2), None)
                }
                "cover" => ("This photo is the cover now.".to_owned(), Some(photo)),
                _ => ("The photo is already there.".to_owned(), None),
            };
            super::db::arrange_photos(&state.db, id, Some(&order), cover)
                .await
                .map(|()| text)
        }
        "remove" => service::remove_photo(&state, id, photo)
            .await
            .map(|()| "Photo removed.".to_owned()),
        "save" => {
            let label = match change.label.trim() {
                "" => Ok(None),
                text => super::model::PhotoLabel::parse(text)
                    .map(Some)
                    .ok_or_else(|| {
                        AppError::BadRequest("Choose what the photo shows from the list.".into())
                    }),
            };
            match (label, super::model::parse_caption(&change.caption)) {
                (Ok(label), Ok(caption)) => {
                    super::db::describe_photo(&state.db, id, photo, label, &caption)
                        .await
                        .map(|_| "Photo details saved.".to_owned())
                }
                (Err(error), _) => Err(error),
                (_, Err(message)) => Err(AppError::BadRequest(message)),
            }
        }
        _ => Err(AppError::BadRequest("Unknown photo action.".into())),
    };
    let anchor = match change.action.as_str() {
        "remove" => "photos".to_owned(),
        _ => format!("photo-{photo}"),
    };
    match done {
        Ok(text) => {
            photos_answer(&session, id, &anchor, PhotosMessage { error: false, text }).await
        }
        Err(error @ AppError::Internal(_)) => error.into_response(),
        Err(error) => photos_answer(&session, id, &anchor, photos_error(error.to_string())).await,
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
