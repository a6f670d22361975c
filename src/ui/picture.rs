//! A photo the store keeps in several sizes, shown with `<picture>`: WebP for the
//! browsers that take it (all current ones), the photo's own format otherwise, and the
//! browser picks the width it needs from `sizes`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Where each size of one photo is, and its shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    /// The size a browser that reads neither `srcset` loads.
    pub src: String,
    /// `url 320w, url 640w, …` in the photo's own format (JPEG, or PNG when it is transparent);
    /// empty when `src` alone is offered in that format.
    pub srcset: String,
    /// The same widths in WebP; empty when there are none.
    pub webp_srcset: String,
    /// The photo's shape in pixels, so the page keeps its room before it loads.
    pub width: u32,
    pub height: u32,
}

/// `<picture>` for `picture`. `sizes` says how wide it is shown (`(min-width: 60rem) 20rem, 100vw`);
/// `eager` for the largest thing in the first screen, lazily loaded otherwise.
#[component]
pub fn PictureImg(
    picture: Picture,
    #[prop(into)] alt: String,
    #[prop(into)] sizes: String,
    #[prop(optional)] eager: bool,
) -> impl IntoView {
    let Picture {
        src,
        srcset,
        webp_srcset,
        width,
        height,
    } = picture;
    view! {
        <picture>
            {(!webp_srcset.is_empty())
                .then(|| {
                    view! { <source type="image/webp" srcset=webp_srcset sizes=sizes.clone() /> }
                })}
            <img
                src=src
                srcset=(!srcset.is_empty()).then(|| srcset.clone())
                sizes=(!srcset.is_empty()).then_some(sizes)
                alt=alt
                width=width
                height=height
                loading=if eager { "eager" } else { "lazy" }
                fetchpriority=if eager { "high" } else { "auto" }
                decoding="async"
            />
        </picture>
    }
}
