//! Photos uploaded as soon as they are chosen, for the forms' islands (JavaScript on): each
//! goes to `POST /photo-uploads` on its own, with a progress bar and a preview; the seller
//! puts them in order by drag and drop or by buttons (keyboard and touch) while they
//! upload; the form then sends only their ids (`uploaded` fields, in order). A photo that
//! fails says why next to it; the others carry on.
//!
//! Without JavaScript none of this runs: the forms send the files themselves.

use super::{model::MAX_PHOTO_MB, rpc::UploadedPhoto};
use leptos::prelude::*;

/// Where one chosen photo is.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    Uploading,
    /// Stored, waiting for the form: its id.
    Done(i64),
    /// Not stored: why, for the seller.
    Failed(String),
}

/// One chosen photo in the list.
#[derive(Clone)]
pub struct UploadEntry {
    key: u32,
    name: String,
    preview: String,
    /// Percent sent.
    progress: RwSignal<u32>,
    state: RwSignal<UploadState>,
}

/// The chosen photos of one form, in the seller's order.
#[derive(Clone, Copy)]
pub struct Uploads {
    entries: RwSignal<Vec<UploadEntry>>,
    /// The next photo's key (chosen in the browser only).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    next_key: StoredValue<u32>,
    dragging: RwSignal<Option<u32>>,
    /// Said to screen readers after each change.
    announce: RwSignal<String>,
    /// The form was sent while photos were still uploading: it goes once they are done.
    waiting_to_send: RwSignal<bool>,
}

impl Uploads {
    /// The photos a form had uploaded before it came back with errors.
    pub fn new(waiting: Vec<UploadedPhoto>) -> Self {
        let entries: Vec<UploadEntry> = waiting
            .into_iter()
            .enumerate()
            .map(|(at, photo)| UploadEntry {
                key: at as u32,
                name: format!("Uploaded photo {}", at + 1),
                preview: photo.thumbnail,
                progress: RwSignal::new(100),
                state: RwSignal::new(UploadState::Done(photo.id)),
            })
            .collect();
        Uploads {
            next_key: StoredValue::new(entries.len() as u32),
            entries: RwSignal::new(entries),
            dragging: RwSignal::new(None),
            announce: RwSignal::new(String::new()),
            waiting_to_send: RwSignal::new(false),
        }
    }

    /// Why each photo that could not be uploaded failed (each is listed with its reason).
    pub fn failures(&self) -> Vec<String> {
        self.entries.with(|entries| {
            entries
                .iter()
                .filter_map(|e| match e.state.get() {
                    UploadState::Failed(why) => Some(why),
                    _ => None,
                })
                .collect()
        })
    }

    /// Called when the form is sent while photos are still uploading: it is held, and
    /// [`Uploads::when_done`]'s action runs once they are all done.
    pub fn send_when_done(&self) {
        self.waiting_to_send.set(true);
        self.announce
            .set("The form will be sent when the photos have uploaded.".into());
    }

    /// What to do once the photos a held form waits for are done; it is given the
    /// failures' reasons (the form does not go while a failed photo is listed).
    pub fn when_done(self, then: impl Fn(Vec<String>) + 'static) {
        Effect::new(move |_| {
            if self.waiting_to_send.get() && self.busy() == 0 {
                self.waiting_to_send.set(false);
                then(self.failures());
            }
        });
    }

    /// Photos still on their way.
    pub fn busy(&self) -> usize {
        self.entries.with(|entries| {
            entries
                .iter()
                .filter(|e| e.state.get() == UploadState::Uploading)
                .count()
        })
    }

    /// Photos that are, or will be, part of the listing (not failed).
    pub fn kept(&self) -> usize {
        self.entries.with(|entries| {
            entries
                .iter()
                .filter(|e| !matches!(e.state.get(), UploadState::Failed(_)))
                .count()
        })
    }

    fn position(&self, key: u32) -> Option<usize> {
        self.entries
            .with(|entries| entries.iter().position(|e| e.key == key))
    }

    /// Moves photo `key` to index `to` and says where it is now.
    fn move_to(&self, key: u32, to: usize) {
        let mut said = None;
        self.entries.update(|entries| {
            if let Some(from) = entries.iter().position(|e| e.key == key) {
                let to = to.min(entries.len() - 1);
                if from != to {
                    let entry = entries.remove(from);
                    said = Some(format!(
                        "{} is photo {} of {} now.",
                        entry.name,
                        to + 1,
                        entries.len() + 1
                    ));
                    entries.insert(to, entry);
                }
            }
        });
        if let Some(text) = said {
            self.announce.set(text);
        }
    }

    fn remove(&self, key: u32) {
        let mut said = None;
        self.entries.update(|entries| {
            if let Some(at) = entries.iter().position(|e| e.key == key) {
                let entry = entries.remove(at);
                said = Some(format!("{} removed.", entry.name));
            }
        });
        if let Some(text) = said {
            self.announce.set(text);
        }
    }

    /// Starts uploading each of `files` while the form has room for it (`room` photos in
    /// all); says what was left out, if any was.
    #[cfg(feature = "hydrate")]
    pub fn add_files(&self, files: &web_sys::FileList, room: usize) -> Option<String> {
        let free = room.saturating_sub(self.kept());
        let (mut started, mut left_out) = (0, 0);
        for file in (0..files.length()).filter_map(|i| files.get(i)) {
            if started >= free {
                left_out += 1;
                continue;
            }
            started += 1;
            let key = self.next_key.get_value();
            self.next_key.set_value(key + 1);
            let entry = UploadEntry {
                key,
                name: file.name(),
                preview: web_sys::Url::create_object_url_with_blob(&file).unwrap_or_default(),
                progress: RwSignal::new(0),
                state: RwSignal::new(UploadState::Uploading),
            };
            if file.size() > (MAX_PHOTO_MB * 1024 * 1024) as f64 {
                entry.state.set(UploadState::Failed(format!(
                    "{}: the photo must be at most {MAX_PHOTO_MB} MB.",
                    file.name()
                )));
            } else {
                send(&file, entry.progress, entry.state);
            }
            self.entries.update(|entries| entries.push(entry));
        }
        self.announce.set(match started {
            0 => String::new(),
            1 => "1 photo uploading.".into(),
            n => format!("{n} photos uploading."),
        });
        (left_out > 0).then(|| {
            format!(
                "A listing has at most {} photos: {left_out} of the chosen photos {} left out.",
                super::model::MAX_PHOTOS,
                if left_out == 1 { "was" } else { "were" }
            )
        })
    }
}

/// Sends a form held for its uploads, as its submit button would (its submit handler runs).
pub fn send_form(form: NodeRef<leptos::html::Form>) {
    #[cfg(feature = "hydrate")]
    if let Some(form) = form.get_untracked() {
        let _ = form.request_submit();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = form;
}

/// Why the form is not sent while photos that failed are listed: each one's reason, and
/// what to do.
pub fn not_uploaded(failures: &[String]) -> String {
    let what = if failures.len() == 1 {
        "Remove it (or choose it again), then send the form."
    } else {
        "Remove them (or choose them again), then send the form."
    };
    format!("{} {what}", failures.join(" "))
}

/// What the upload's answer means for the seller: `status` 0 when no answer came, `id`
/// the `id` of the JSON body when it has one (read by the browser's JSON parser: the
/// bundle carries no JSON parser of its own), `body` the text otherwise.
pub fn answer(status: u16, id: Option<i64>, body: &str, file_name: &str) -> UploadState {
    if let (201, Some(id)) = (status, id) {
        return UploadState::Done(id);
    }
    let text = body.trim();
    let readable =
        status != 201 && !text.is_empty() && text.len() <= 400 && !text.starts_with(['<', '{']);
    UploadState::Failed(match status {
        0 => format!("{file_name}: the upload stopped. Check your connection, then remove it and choose it again."),
        _ if readable => text.to_owned(),
        401 => "Please log in again to upload photos.".to_owned(),
        413 => format!("{file_name}: the photo must be at most {MAX_PHOTO_MB} MB."),
        _ => format!("{file_name}: the photo could not be uploaded. Please try again."),
    })
}

/// Sends one photo, reporting progress and the outcome into the signals.
#[cfg(feature = "hydrate")]
fn send(file: &web_sys::File, progress: RwSignal<u32>, state: RwSignal<UploadState>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let name = file.name();
    let failed = move |name: &str| state.set(answer(0, None, "", name));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return failed(&name);
    };
    let Ok(data) = web_sys::FormData::new() else {
        return failed(&name);
    };
    if data
        .append_with_blob_and_filename("photo", file, &name)
        .is_err()
        || xhr.open("POST", "/photo-uploads").is_err()
    {
        return failed(&name);
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    if let Ok(upload) = xhr.upload() {
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
                if ev.length_computable() && ev.total() > 0.0 {
                    // The last percent is the server's work: 100 once it answers.
                    let sent = (ev.loaded() / ev.total() * 99.0).round() as u32;
                    progress.set(sent.min(99));
                }
            });
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        // Lives as long as the page: one small closure per photo.
        on_progress.forget();
    }
    let answered = xhr.clone();
    let on_end = Closure::once_into_js(move || {
        let status = answered.status().unwrap_or(0);
        let body = answered.response_text().ok().flatten().unwrap_or_default();
        let id = web_sys::js_sys::JSON::parse(&body)
            .ok()
            .and_then(|json| web_sys::js_sys::Reflect::get(&json, &"id".into()).ok())
            .and_then(|id| id.as_f64())
            .map(|id| id as i64);
        progress.set(100);
        state.set(answer(status, id, &body, &name));
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    if xhr.send_with_opt_form_data(Some(&data)).is_err() {
        state.set(answer(0, None, "", &file.name()));
    }
}

/// The chosen photos: hidden `uploaded` fields for the form (the stored ones, in order),
/// and a list where each can be moved, made the cover or removed.
///
/// The views below bind signals (`Memo<bool>`, `Memo<String>`) rather than closures where
/// they can: each closure is a type of its own, compiled into the browser bundle with its
/// own copy of the rendering code, while each signal type is compiled once.
#[component]
pub fn UploadList(uploads: Uploads) -> impl IntoView {
    let entries = uploads.entries;
    let fields = move || {
        entries
            .get()
            .into_iter()
            .filter_map(|entry| match entry.state.get() {
                UploadState::Done(id) => {
                    Some(view! { <input type="hidden" name="uploaded" value=id /> })
                }
                _ => None,
            })
            .collect_view()
    };
    let empty = Memo::new(move |_| entries.with(Vec::is_empty));
    view! {
        {fields}
        // A live region without the status role: the page's own status messages keep it.
        <p class="visually-hidden" aria-live="polite">
            {uploads.announce}
        </p>
        // Only while there are photos: an empty list named "Chosen photos" would be one more
        // match for the "Photo" field's label.
        <Show when=move || !empty.get()>
            <ol class="uploads" aria-label="Chosen photos">
                <For each=move || entries.get() key=|entry| entry.key let:entry>
                    <UploadItem uploads entry />
                </For>
            </ol>
        </Show>
    }
}

#[component]
fn UploadItem(uploads: Uploads, entry: UploadEntry) -> impl IntoView {
    let UploadEntry {
        key,
        name,
        preview,
        progress,
        state,
    } = entry;
    let position = Memo::new(move |_| uploads.position(key).unwrap_or(0));
    let count = Memo::new(move |_| uploads.entries.with(Vec::len));
    let is_first = Memo::new(move |_| position.get() == 0);
    let is_last = Memo::new(move |_| position.get() + 1 == count.get());
    let not_first = Memo::new(move |_| position.get() != 0);
    let title = Memo::new(move |_| format!("Photo {} of {}", position.get() + 1, count.get()));
    let not_uploading = Memo::new(move |_| state.get() != UploadState::Uploading);
    let not_done = Memo::new(move |_| !matches!(state.get(), UploadState::Done(_)));
    let failure = Memo::new(move |_| match state.get() {
        UploadState::Failed(why) => why,
        _ => String::new(),
    });
    let failed = Memo::new(move |_| !failure.get().is_empty());
    let not_failed = Memo::new(move |_| failure.get().is_empty());
    let percent = Memo::new(move |_| format!("{}%", progress.get()));
    let dragging = Memo::new(move |_| uploads.dragging.get() == Some(key));
    // After a move, the pressed button keeps the focus (or its pair, at either end).
    let move_by = move |to: usize, button: &'static str| {
        uploads.move_to(key, to);
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            use wasm_bindgen::JsCast;
            let at = uploads.position(key).unwrap_or(0);
            let last = uploads.entries.with(Vec::len).saturating_sub(1);
            let button = match button {
                "up" if at == 0 => "down",
                "down" if at == last => "up",
                other => other,
            };
            if let Some(el) = document()
                .get_element_by_id(&format!("upload-{key}-{button}"))
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = button;
    };
    let progress_label = format!("Uploading {name}");
    view! {
        <li
            class="upload"
            class:dragging=dragging
            class:failed=failed
            draggable="true"
            on:dragstart=move |ev| {
                uploads.dragging.set(Some(key));
                #[cfg(feature = "hydrate")]
                if let Some(data) = ev.data_transfer() {
                    let _ = data.set_data("text/plain", &key.to_string());
                    data.set_effect_allowed("move");
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:dragover=move |ev| {
                if uploads.dragging.get_untracked().is_some() {
                    ev.prevent_default();
                }
            }
            on:drop=move |ev| {
                ev.prevent_default();
                if let Some(from) = uploads.dragging.get_untracked() {
                    if let Some(to) = uploads.position(key) {
                        uploads.move_to(from, to);
                    }
                }
                uploads.dragging.set(None);
            }
            on:dragend=move |_| uploads.dragging.set(None)
        >
            <img src=preview alt="" width="120" height="90" />
            <div class="upload-info">
                <p class="photo-form-title">
                    <strong>{title}</strong>
                    <span class="upload-name">{name}</span>
                    <span class="badge" hidden=not_first>
                        "Cover"
                    </span>
                </p>
                <div class="upload-progress" hidden=not_uploading>
                    <progress max="100" value=progress aria-label=progress_label></progress>
                    <span aria-hidden="true">{percent}</span>
                </div>
                <p class="upload-done" hidden=not_done>
                    "Uploaded"
                </p>
                <p class="field-error" role="alert" hidden=not_failed>
                    {failure}
                </p>
                <div class="photo-buttons">
                    <button
                        type="button"
                        id=format!("upload-{key}-up")
                        class="button button-outline"
                        disabled=is_first
                        on:click=move |_| move_by(position.get_untracked().saturating_sub(1), "up")
                    >
                        "Move up"
                    </button>
                    <button
                        type="button"
                        id=format!("upload-{key}-down")
                        class="button button-outline"
                        disabled=is_last
                        on:click=move |_| move_by(position.get_untracked() + 1, "down")
                    >
                        "Move down"
                    </button>
                    <button
                        type="button"
                        id=format!("upload-{key}-cover")
                        class="button button-outline"
                        disabled=is_first
                        on:click=move |_| move_by(0, "cover")
                    >
                        "Make cover"
                    </button>
                    <button
                        type="button"
                        class="button button-danger"
                        on:click=move |_| uploads.remove(key)
                    >
                        "Remove"
                    </button>
                </div>
            </div>
        </li>
    }
}

/// The edit page's "Add photos" form. Without JavaScript it sends the chosen files; with
/// it, each uploads as soon as it is chosen and the form sends their ids in order.
#[island]
pub fn AddPhotosForm(car_id: i64, room: usize) -> impl IntoView {
    let uploads = Uploads::new(Vec::new());
    let problem = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                if let Some(files) = input.files() {
                    problem.set(uploads.add_files(&files, room));
                }
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let form = NodeRef::<leptos::html::Form>::new();
    let sending = RwSignal::new(false);
    let not_sending = Memo::new(move |_| !sending.get());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let failures = uploads.failures();
        if !failures.is_empty() {
            ev.prevent_default();
            problem.set(Some(not_uploaded(&failures)));
        } else if uploads.busy() > 0 {
            // Held until the photos are up; then it goes by itself.
            ev.prevent_default();
            sending.set(true);
            uploads.send_when_done();
        }
    };
    uploads.when_done(move |failures| {
        sending.set(false);
        if !failures.is_empty() {
            problem.set(Some(not_uploaded(&failures)));
        } else {
            send_form(form);
        }
    });
    view! {
        <form
            method="post"
            action=format!("/cars/{car_id}/photos")
            enctype="multipart/form-data"
            class="add-photos"
            node_ref=form
            on:submit=on_submit
        >
            <div class="field">
                <label for="add-photos">"Photos to add"</label>
                <input
                    id="add-photos"
                    name="photos"
                    type="file"
                    multiple
                    accept="image/jpeg,image/png,image/webp"
                    aria-describedby="add-photos-hint add-photos-error"
                    on:change=on_change
                />
                <p class="hint" id="add-photos-hint">
                    {format!(
                        "JPEG, PNG or WebP, up to {MAX_PHOTO_MB} MB each; {room} more can be added.",
                    )}
                </p>
                <p class="field-error" id="add-photos-error" role="alert">
                    {problem}
                </p>
                <UploadList uploads />
            </div>
            <button type="submit" class="button button-primary">
                "Add photos"
            </button>
            <p class="hint" hidden=not_sending>
                "The photos will be added as soon as they have uploaded."
            </p>
        </form>
    }
}

/// The edit page's list of a listing's photos. With JavaScript a photo can also be dragged
/// by its picture onto another's place; the new order is saved (the REST API's `PATCH
/// /api/cars/{id}/photos/`, on the seller's session) and the page reloads to show it. The
/// photos' own buttons work either way.
#[island]
pub fn PhotoOrder(car_id: i64, children: Children) -> impl IntoView {
    let dragging = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        let Some(from) = dragging.get_untracked() else {
            return;
        };
        ev.prevent_default();
        dragging.set(None);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(target) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("li[data-photo]").ok().flatten())
            else {
                return;
            };
            let Some(list) = target.parent_element() else {
                return;
            };
            let items = list.children();
            let ids: Vec<String> = (0..items.length())
                .filter_map(|i| items.item(i))
                .filter_map(|item| item.get_attribute("data-photo"))
                .collect();
            let Some(order) = dropped_order(
                &ids,
                &from,
                &target.get_attribute("data-photo").unwrap_or_default(),
            ) else {
                return;
            };
            save_order(car_id, &order, problem);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (from, car_id);
    };
    view! {
        <div
            class="photo-order"
            on:dragstart=move |ev| {
                #[cfg(feature = "hydrate")]
                {
                    use wasm_bindgen::JsCast;
                    let photo = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .and_then(|el| el.closest("li[data-photo]").ok().flatten())
                        .and_then(|item| item.get_attribute("data-photo"));
                    if let (Some(photo), Some(data)) = (photo.clone(), ev.data_transfer()) {
                        let _ = data.set_data("text/plain", &photo);
                        data.set_effect_allowed("move");
                    }
                    dragging.set(photo);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = ev;
            }
            on:dragover=move |ev| {
                if dragging.get_untracked().is_some() {
                    ev.prevent_default();
                }
            }
            on:drop=on_drop
            on:dragend=move |_| dragging.set(None)
        >
            {children()}
            <p class="field-error" role="alert">
                {problem}
            </p>
        </div>
    }
}

/// The photo ids after `from` is dropped on `onto`'s place (it goes where `onto` was and
/// the photos between move one step), or `None` when nothing moves.
pub fn dropped_order(ids: &[String], from: &str, onto: &str) -> Option<Vec<String>> {
    let at = ids.iter().position(|id| id == from)?;
    let to = ids.iter().position(|id| id == onto)?;
    if at == to {
        return None;
    }
    let mut order = ids.to_vec();
    let moved = order.remove(at);
    order.insert(to, moved);
    Some(order)
}

/// Saves the listing's photo order and reloads the page; says why if it could not.
#[cfg(feature = "hydrate")]
fn save_order(car_id: i64, order: &[String], problem: RwSignal<Option<String>>) {
    use wasm_bindgen::{closure::Closure, JsCast};
    let failed = move || {
        problem.set(Some(
            "The new order could not be saved. Please use the buttons, or reload the page.".into(),
        ))
    };
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return failed();
    };
    if xhr
        .open("PATCH", &format!("/api/cars/{car_id}/photos/"))
        .is_err()
    {
        return failed();
    }
    let _ = xhr.set_request_header("Content-Type", "application/json");
    let _ = xhr.set_request_header("Accept", "application/json");
    let answered = xhr.clone();
    let on_end = Closure::once_into_js(move || match answered.status() {
        Ok(200) => {
            let _ = window().location().reload();
        }
        _ => failed(),
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    let body = format!(r#"{{"order":[{}]}}"#, order.join(","));
    if xhr.send_with_opt_str(Some(&body)).is_err() {
        failed();
    }
}

#[cfg(test)]
mod tests {
    use super::{answer, UploadState};

    #[test]
    fn an_upload_answer_becomes_the_photo_id_or_a_reason_naming_the_file() {
        assert_eq!(
            answer(201, Some(42), r#"{"id":42}"#, "a.jpg"),
            UploadState::Done(42)
        );
        assert_eq!(
            answer(
                400,
                None,
                "a.heic: this file type is not supported",
                "a.heic"
            ),
            UploadState::Failed("a.heic: this file type is not supported".into())
        );
        assert_eq!(
            answer(413, None, "", "big.jpg"),
            UploadState::Failed("big.jpg: the photo must be at most 15 MB.".into())
        );
        let UploadState::Failed(why) = answer(502, None, "<html>Bad gateway</html>", "a.jpg")
        else {
            panic!("a proxy's error page is a failure");
        };
        assert!(why.starts_with("a.jpg: the photo could not be uploaded"));
        let UploadState::Failed(why) = answer(0, None, "", "a.jpg") else {
            panic!("no answer is a failure");
        };
        assert!(why.contains("upload stopped"));
        let UploadState::Failed(why) = answer(201, None, "{}", "a.jpg") else {
            panic!("a created answer without an id is a failure");
        };
        assert!(why.starts_with("a.jpg: the photo could not be uploaded"));
    }

    #[test]
    fn a_photo_dropped_on_anothers_place_takes_it_and_the_ones_between_move_one_step() {
        let ids: Vec<String> = ["1", "2", "3", "4"].map(String::from).to_vec();
        let order = |from, onto| super::dropped_order(&ids, from, onto);
        assert_eq!(order("4", "1").unwrap(), ["4", "1", "2", "3"]);
        assert_eq!(order("1", "3").unwrap(), ["2", "3", "1", "4"]);
        assert_eq!(order("2", "2"), None);
        assert_eq!(order("9", "2"), None);
    }

    #[test]
    fn a_form_held_by_failed_photos_names_each_and_says_what_to_do() {
        let one = super::not_uploaded(&["a.heic: this file type is not supported.".into()]);
        assert_eq!(
            one,
            "a.heic: this file type is not supported. Remove it (or choose it again), then send the form."
        );
        let two = super::not_uploaded(&["a.heic: no.".into(), "b.tif: no.".into()]);
        assert!(two.starts_with("a.heic: no. b.tif: no. Remove them"));
    }
}
