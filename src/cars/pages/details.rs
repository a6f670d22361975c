//! A listing's details page.

use super::*;
use crate::cars::{gallery::Gallery, specs_view::SpecsTable};

#[component]
pub fn CarDetailsPage() -> impl IntoView {
    let id = route_id();
    let set_status = ServerAction::<SetCarStatus>::new();
    let car = Resource::new(
        move || (id.get(), set_status.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_car(id).await,
                None => Err(AppError::NotFound(
                    "This listing does not exist or has been removed.".into(),
                )),
            }
        },
    );
    let action_error = Signal::derive(move || match set_status.value().get() {
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    });
    view! {
        <Transition fallback=|| {
            view! { <p class="muted">"Loading…"</p> }
        }>
            {move || Suspend::new(async move {
                match car.await {
                    Err(error) => page_error(error),
                    Ok(view) => {
                        let car = view.car;
                        let title = car.title();
                        let alt = format!("{title}, side view");
                        let listed = car.created_at.format("%-d %B %Y").to_string();
                        let updated = car.updated_at.format("%-d %B %Y").to_string();
                        let description = car.description.clone();
                        view! {
                            <Title text=title.clone() />
                            <nav class="breadcrumbs" aria-label="Breadcrumb">
                                <a href="/cars">"Buy Used Cars"</a>
                                <span aria-hidden="true">" / "</span>
                                <span>{title.clone()}</span>
                            </nav>
                            <article class="details">
                                {if view.photos.is_empty() {
                                    view! {
                                        <div class="details-photo">
                                            {match car.image() {
                                                Some(src) => {
                                                    // The largest thing on the page: fetched ahead of the app's bundle.
                                                    view! {
                                                        <img
                                                            src=src
                                                            alt=alt
                                                            width="640"
                                                            height="400"
                                                            fetchpriority="high"
                                                        />
                                                    }
                                                        .into_any()
                                                }
                                                None => view! { <PhotoPlaceholder /> }.into_any(),
                                            }}
                                        </div>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <Gallery photos=view.photos.clone() title=title.clone() />
                                    }
                                        .into_any()
                                }} <div class="details-info">
                                    <h1>{title.clone()}</h1>
                                    <p class="details-price">{format_price(car.price_cents)}</p>
                                    {(car.status != crate::cars::model::Status::Available)
                                        .then(|| {
                                            view! {
                                                <p class=format!(
                                                    "badge badge-{}",
                                                    car.status.as_str(),
                                                )>{car.status.label()}</p>
                                            }
                                        })}
                                    <table class="facts">
                                        <caption class="visually-hidden">"Key facts"</caption>
                                        <tbody>
                                            <tr>
                                                <th scope="row">"Year"</th>
                                                <td>{car.year}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Mileage"</th>
                                                <td>{format_mileage(car.mileage_km)}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Condition"</th>
                                                <td>{car.condition.label()}</td>
                                            </tr>
                                            {car
                                                .town
                                                .clone()
                                                .map(|town| {
                                                    view! {
                                                        <tr>
                                                            <th scope="row">"Location"</th>
                                                            <td>{town.label}</td>
                                                        </tr>
                                                    }
                                                })}
                                            <tr>
                                                <th scope="row">"Status"</th>
                                                <td>{car.status.label()}</td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Listed"</th>
                                                <td>
                                                    <time datetime=car.created_at.to_rfc3339()>{listed}</time>
                                                </td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Last updated"</th>
                                                <td>
                                                    <time datetime=car.updated_at.to_rfc3339()>{updated}</time>
                                                </td>
                                            </tr>
                                            <tr>
                                                <th scope="row">"Seller"</th>
                                                <td class="seller">{car.seller_username.clone()}</td>
                                            </tr>
                                        </tbody>
                                    </table>
                                    {view
                                        .is_owner
                                        .then(|| {
                                            view! {
                                                <section class="owner-box" aria-labelledby="owner-heading">
                                                    <h2 id="owner-heading">"Your listing"</h2>
                                                    <FormAlert message=action_error />
                                                    <OwnerActions
                                                        id=car.id
                                                        status=car.status
                                                        action=set_status
                                                    />
                                                </section>
                                            }
                                        })}
                                </div>
                                <section
                                    class="details-description"
                                    aria-labelledby="description-heading"
                                >
                                    <h2 id="description-heading">"Description"</h2>
                                    {if description.is_empty() {
                                        view! {
                                            <p class="muted">
                                                "The seller has not added a description."
                                            </p>
                                        }
                                            .into_any()
                                    } else {
                                        view! { <p class="description">{description}</p> }
                                            .into_any()
                                    }}
                                </section> <SpecsTable specs=car.specs.clone() />
                            </article>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
