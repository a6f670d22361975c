//! A listing's photo gallery on its details page.
//!
//! Without JavaScript it is a strip that scrolls sideways and snaps to each photo (swipe
//! on a phone, scroll or arrow keys on a desk), with plain links between the photos, to
//! each one from the thumbnails, and to the first photo of each kind ("Damage (2)").
//! Each photo says where it is ("3 / 12"), and its large view links to the photo itself.
//! With JavaScript the same links move the strip without moving the page, the arrow
//! keys go from photo to photo, and a button shows the gallery full screen.

use super::model::PhotoLabel;
use crate::ui::{Picture, PictureImg};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One photo as the gallery shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GalleryPhoto {
    pub picture: Picture,
    /// The photo at its stored size (the full-screen view, and the link without JavaScript).
    pub full: String,
    /// The smallest size, for the thumbnails strip.
    pub thumbnail: String,
    pub label: Option<PhotoLabel>,
    pub caption: String,
}

/// How wide the large photo is shown: two thirds of a desk's page, a phone's whole width.
const SIZES: &str = "(min-width: 64rem) 44rem, (min-width: 50rem) 60vw, 100vw";

/// "Exterior", "Damage", … as a buyer reads it.
pub fn label_name(label: PhotoLabel) -> &'static str {
    match label {
        PhotoLabel::Exterior => "Exterior",
        PhotoLabel::Interior => "Interior",
        PhotoLabel::Engine => "Engine",
        PhotoLabel::Wheels => "Wheels",
        PhotoLabel::Documents => "Documents",
        PhotoLabel::Damage => "Damage",
    }
}

/// The kinds of photo present, in the catalogue's order, each with how many there are and
/// the position (1-based) of the first: the "Damage (2)" links.
pub fn label_jumps(photos: &[GalleryPhoto]) -> Vec<(PhotoLabel, usize, usize)> {
    PhotoLabel::ALL
        .into_iter()
        .filter_map(|label| {
            let mut at = photos
                .iter()
                .enumerate()
                .filter(|(_, photo)| photo.label == Some(label));
            let (first, _) = at.next()?;
            Some((label, at.count() + 1, first + 1))
        })
        .collect()
}

#[component]
pub fn Gallery(photos: Vec<GalleryPhoto>, #[prop(into)] title: String) -> impl IntoView {
    let count = photos.len();
    let jumps = label_jumps(&photos);
    let slide_link = move |position: usize| format!("#photo-{position}");
    let slides = photos
        .iter()
        .enumerate()
        .map(|(at, photo)| {
            let position = at + 1;
            let alt = format!("{title}, photo {position} of {count}");
            let what = photo
                .label
                .map(|label| view! { <span class="photo-label">{label_name(label)}</span> });
            let caption = (!photo.caption.is_empty()).then(|| photo.caption.clone());
            view! {
                <figure
                    class="gallery-slide"
                    id=format!("photo-{position}")
                    aria-roledescription="slide"
                    aria-label=format!("{position} of {count}")
                >
                    <a class="gallery-full" href=photo.full.clone() data-full="">
                        <PictureImg
                            picture=photo.picture.clone()
                            alt=alt
                            sizes=SIZES
                            eager=at == 0
                        />
                    </a>
                    <figcaption>
                        <span class="gallery-counter">{format!("{position} / {count}")}</span>
                        {what}
                        {caption}
                    </figcaption>
                    {(count > 1)
                        .then(|| {
                            let previous = if position == 1 { count } else { position - 1 };
                            let next = if position == count { 1 } else { position + 1 };
                            view! {
                                <a
                                    class="gallery-step gallery-previous"
                                    href=slide_link(previous)
                                    data-slide=previous
                                    aria-label="Previous photo"
                                >
                                    <span aria-hidden="true">"‹"</span>
                                </a>
                                <a
                                    class="gallery-step gallery-next"
                                    href=slide_link(next)
                                    data-slide=next
                                    aria-label="Next photo"
                                >
                                    <span aria-hidden="true">"›"</span>
                                </a>
                            }
                        })}
                </figure>
            }
        })
        .collect_view();
    let thumbnails = (count > 1).then(|| {
        photos
            .iter()
            .enumerate()
            .map(|(at, photo)| {
                let position = at + 1;
                let name = match photo.label {
                    Some(label) => format!("Photo {position} of {count}: {}", label_name(label)),
                    None => format!("Photo {position} of {count}"),
                };
                view! {
                    <li>
                        <a href=slide_link(position) data-slide=position aria-label=name>
                            <img
                                src=photo.thumbnail.clone()
                                alt=""
                                width="96"
                                height="72"
                                loading="lazy"
                                decoding="async"
                            />
                        </a>
                    </li>
                }
            })
            .collect_view()
    });
    let jumps = (!jumps.is_empty()).then(|| {
        view! {
            <p class="gallery-jumps">
                <span class="visually-hidden">"Go to photos of: "</span>
                {jumps
                    .into_iter()
                    .map(|(label, how_many, first)| {
                        view! {
                            <a
                                class=format!("chip-link chip-{}", label.as_str())
                                href=slide_link(first)
                                data-slide=first
                            >
                                {format!("{} ({how_many})", label_name(label))}
                            </a>
                        }
                    })
                    .collect_view()}
            </p>
        }
    });
    view! {
        <GalleryControls count>
            <div class="gallery-track" role="group" tabindex="0" aria-label="Photos, one at a time">
                {slides}
            </div>
            {thumbnails
                .map(|thumbnails| {
                    view! {
                        <ol class="gallery-thumbs" aria-label="All photos">
                            {thumbnails}
                        </ol>
                    }
                })}
            {jumps}
        </GalleryControls>
    }
}

/// Tells the browser how wide the gallery's photos are now shown, so it picks their size again.
#[cfg(feature = "hydrate")]
fn set_sizes(root: &web_sys::Element, sizes: &str) {
    use wasm_bindgen::JsCast;
    let Ok(images) = root.query_selector_all(".gallery-slide img, .gallery-slide source") else {
        return;
    };
    for i in 0..images.length() {
        if let Some(Ok(image)) = images
            .item(i)
            .map(|node| node.dyn_into::<web_sys::Element>())
        {
            let _ = image.set_attribute("sizes", sizes);
        }
    }
}

/// What JavaScript adds to the gallery: the links move the strip in place, the arrow keys
/// go from photo to photo, the large photo (and a button) goes full screen. Its buttons
/// stay hidden until it runs, so a page without JavaScript shows none that would not work.
#[island]
fn GalleryControls(count: usize, children: Children) -> impl IntoView {
    let root = NodeRef::<leptos::html::Section>::new();
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let full_screen = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    let show = move |position: usize| {
        let Some(root) = root.get_untracked() else {
            return;
        };
        let Ok(Some(track)) = root.query_selector(".gallery-track") else {
            return;
        };
        let position = position.clamp(1, count.max(1));
        let width = track.client_width();
        // The strip scrolls smoothly (CSS); the page moves only as far as needed to show
        // it whole (a jump from the links below it).
        track.set_scroll_left(width * (position as i32 - 1));
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Nearest);
        options.set_inline(web_sys::ScrollLogicalPosition::Nearest);
        track.scroll_into_view_with_scroll_into_view_options(&options);
    };
    #[cfg(feature = "hydrate")]
    let current = move || -> usize {
        let Some(root) = root.get_untracked() else {
            return 1;
        };
        match root.query_selector(".gallery-track") {
            Ok(Some(track)) if track.client_width() > 0 => {
                (f64::from(track.scroll_left()) / f64::from(track.client_width())).round() as usize
                    + 1
            }
            _ => 1,
        }
    };
    #[cfg(feature = "hydrate")]
    let toggle_full_screen = move || {
        let document = document();
        if document.fullscreen_element().is_some() {
            document.exit_fullscreen();
            return;
        }
        if let Some(root) = root.get_untracked() {
            let at = current();
            if root.request_fullscreen().is_ok() {
                full_screen.set(true);
                // Full screen the photos are as wide as the screen: let the browser fetch
                // the larger sizes, then come back to the same photo.
                set_sizes(&root, "100vw");
                set_timeout(move || show(at), std::time::Duration::from_millis(60));
            }
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let toggle_full_screen = move || {
        let _ = (count, root, full_screen);
    };

    let on_click = move |event: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(target) = event
                .target()
                .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            if let Ok(Some(link)) = target.closest("[data-slide]") {
                if let Some(position) = link
                    .get_attribute("data-slide")
                    .and_then(|value| value.parse::<usize>().ok())
                {
                    event.prevent_default();
                    show(position);
                }
            } else if let Ok(Some(_)) = target.closest("[data-full]") {
                event.prevent_default();
                toggle_full_screen();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        #[cfg(feature = "hydrate")]
        {
            let step: i64 = match event.key().as_str() {
                "ArrowRight" => 1,
                "ArrowLeft" => -1,
                "Home" => -(count as i64),
                "End" => count as i64,
                _ => return,
            };
            event.prevent_default();
            let to = (current() as i64 + step).clamp(1, count as i64);
            show(to as usize);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    #[cfg(feature = "hydrate")]
    {
        // Leaving full screen by Escape (or the browser's own control) puts the sizes back.
        let _ = leptos::prelude::window_event_listener(leptos::ev::resize, move |_| {
            if full_screen.get_untracked() && document().fullscreen_element().is_none() {
                full_screen.set(false);
                if let Some(root) = root.get_untracked() {
                    set_sizes(&root, SIZES);
                }
            }
        });
    }
    view! {
        <section
            class="gallery"
            node_ref=root
            aria-roledescription="carousel"
            aria-label="Photos"
            on:click=on_click
            on:keydown=on_key
        >
            {children()}
            <button
                type="button"
                class="gallery-full-screen"
                hidden=move || !ready.get()
                aria-pressed=move || if full_screen.get() { "true" } else { "false" }
                on:click=move |_| toggle_full_screen()
            >
                {move || if full_screen.get() { "Exit full screen" } else { "Full screen" }}
            </button>
        </section>
    }
}
