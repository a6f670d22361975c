//! The marketplace: filters, results and pages.

use super::*;

#[component]
pub fn UsedCarsPage() -> impl IntoView {
    let query = use_query_map();
    let parsed = Memo::new(move |_| {
        let q = query.read();
        CarFilters::from_query_all(|key| q.get_all(key).unwrap_or_default())
    });
    // The page's cars and the Make filter's choices come in one answer.
    let results = Resource::new(move || parsed.get().0, list_cars);

    view! {
        <Title text="Buy Used Cars" />
        <div class="page-head">
            <h1>"Buy Used Cars"</h1>
            <p class="muted">"Every car here is for sale now, listed by its owner."</p>
        </div>
        <div class="market">
            <aside class="filters-column">
                <input type="checkbox" id="show-filters" class="filters-toggle" />
                <label for="show-filters" class="button button-outline filters-button">
                    "Filters"
                </label>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let (makes, facets) = results
                            .await
                            .map(|page| (page.makes, page.facets))
                            .unwrap_or_default();
                        let filters = parsed.get().0;
                        let (near_typed, near_radius) = {
                            let q = query.read();
                            let radius = q
                                .get("radius_km")
                                .and_then(|r| r.trim().parse::<u32>().ok())
                                .filter(|r| RADII_KM.contains(r))
                                .unwrap_or(DEFAULT_RADIUS_KM);
                            (q.get("near").unwrap_or_default(), radius)
                        };
                        view! { <FilterForm filters makes facets near_typed near_radius /> }
                    })}
                </Transition>
            </aside>
            <section class="results" aria-labelledby="results-heading">
                {move || {
                    let problems = parsed.get().1;
                    (!problems.is_empty())
                        .then(|| {
                            view! {
                                <div class="alert" role="alert">
                                    <p>"Some filters were ignored:"</p>
                                    <ul>
                                        {problems
                                            .into_values()
                                            .map(|p| view! { <li>{p}</li> })
                                            .collect_view()}
                                    </ul>
                                </div>
                            }
                        })
                }}
                <Transition fallback=|| {
                    view! { <p class="muted">"Loading cars…"</p> }
                }>
                    {move || Suspend::new(async move {
                        let filters = parsed.get().0;
                        match results.await {
                            Ok(page) => view! { <Results page filters /> }.into_any(),
                            Err(error) => {
                                view! {
                                    <FormAlert message=Signal::derive(move || Some(
                                        error.to_string(),
                                    )) />
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
pub(super) fn FilterForm(
    filters: CarFilters,
    makes: Vec<String>,
    /// The counts beside the list filters' choices.
    facets: Facets,
    /// The "near" town as typed, shown again (with the towns it could mean) when it did
    /// not name exactly one.
    #[prop(optional)]
    near_typed: String,
    /// The distance asked for with it.
    #[prop(default = DEFAULT_RADIUS_KM)]
    near_radius: u32,
) -> impl IntoView {
    let price = |v: Option<i64>| {
        v.map(crate::cars::model::format_price_input)
            .unwrap_or_default()
    };
    let num = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let selected_make = filters.make.clone().unwrap_or_default();
    view! {
        <Form
            method="GET"
            action="/cars"
            attr:id="filters"
            attr:class="filter-panel stack"
            attr:aria-label="Filter cars"
        >
            <div class="field">
                <label for="f-q">"Search"</label>
                <input
                    id="f-q"
                    type="search"
                    name="q"
                    value=filters.q.clone().unwrap_or_default()
                    placeholder="Make, model or keyword"
                    maxlength="100"
                />
            </div>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-price">"Min price"</label>
                    <input
                        id="f-min-price"
                        name="min_price"
                        type="text"
                        inputmode="decimal"
                        value=price(filters.min_price_cents)
                        placeholder="Any"
                    />
                </div>
                <div class="field">
                    <label for="f-max-price">"Max price"</label>
                    <input
                        id="f-max-price"
                        name="max_price"
                        type="text"
                        inputmode="decimal"
                        value=price(filters.max_price_cents)
                        placeholder="Any"
                    />
                </div>
            </div>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-year">"Min year"</label>
                    <input
                        id="f-min-year"
                        name="min_year"
                        type="text"
                        inputmode="numeric"
                        maxlength="4"
                        value=num(filters.min_year)
                        placeholder="Any"
                    />
                </div>
                <div class="field">
                    <label for="f-max-year">"Max year"</label>
                    <input
                        id="f-max-year"
                        name="max_year"
                        type="text"
                        inputmode="numeric"
                        maxlength="4"
                        value=num(filters.max_year)
                        placeholder="Any"
                    />
                </div>
            </div>
            <div class="field">
                <label for="f-make">"Make"</label>
                <select id="f-make" name="make">
                    <option value="">"Any make"</option>
                    {makes
                        .into_iter()
                        .map(|make| {
                            let selected = make.eq_ignore_ascii_case(&selected_make);
                            view! {
                                <option value=make.clone() selected=selected>
                                    {make.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-condition">"Condition"</label>
                <select id="f-condition" name="condition">
                    <option value="">"New or used"</option>
                    {Condition::ALL
                        .into_iter()
                        .map(|c| {
                            view! {
                                <option value=c.as_str() selected=filters.condition == Some(c)>
                                    {c.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-mileage">"Min mileage"</label>
                    <input
                        id="f-min-mileage"
                        name="min_mileage"
                        type="text"
                        inputmode="numeric"
                        value=filters.min_mileage_km.map(|v| v.to_string()).unwrap_or_default()
                        placeholder="Any (km)"
                    />
                </div>
                <div class="field">
                    <label for="f-max-mileage">"Max mileage"</label>
                    <input
                        id="f-max-mileage"
                        name="max_mileage"
                        type="text"
                        inputmode="numeric"
                        value=filters.max_mileage_km.map(|v| v.to_string()).unwrap_or_default()
                        placeholder="Any (km)"
                    />
                </div>
            </div>
            <NearFields filters=filters.clone() typed=near_typed radius=near_radius />
            <SpecFilterFields specs=filters.specs.clone() facets />
            <div class="field">
                <label for="f-sort">"Sort by"</label>
                <select id="f-sort" name="sort">
                    {Sort::ALL
                        .into_iter()
                        .map(|s| {
                            view! {
                                <option value=s.as_str() selected=filters.sort == s>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" class="button button-primary button-block">
                "Apply filters"
            </button>
            <a class="clear-link" href="/cars">
                "Clear filters"
            </a>
        </Form>
    }
}

/// "Near <town> within N km". A name that could mean several towns lists them, each a
/// link to these filters with that town.
#[component]
fn NearFields(filters: CarFilters, typed: String, radius: u32) -> impl IntoView {
    let chosen = filters.near.and_then(|near| Place::of(near.town_id));
    let radius = filters.near.map_or(radius, |near| near.radius_km);
    let choices = if chosen.is_none() && !typed.trim().is_empty() {
        town_choices(&typed)
    } else {
        Vec::new()
    };
    let value = chosen.map(|town| town.label).unwrap_or(typed);
    let link = move |town_id: i64| {
        let mut f = filters.clone();
        f.near = Some(Near {
            town_id,
            radius_km: radius,
        });
        format!("/cars?{}", f.to_query(1))
    };
    view! {
        <div class="field-row near-fields">
            <div class="field">
                <label for="f-near">"Near"</label>
                <TownInput
                    id="f-near".to_owned()
                    name="near".to_owned()
                    value=value
                    placeholder="Town".to_owned()
                    described_by=String::new()
                    invalid=false
                />
            </div>
            <div class="field">
                <label for="f-radius">"Within"</label>
                <select id="f-radius" name="radius_km">
                    {RADII_KM
                        .into_iter()
                        .map(|km| {
                            view! {
                                <option value=km.to_string() selected=km == radius>
                                    {format!("{km} km")}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
        </div>
        {(!choices.is_empty())
            .then(|| {
                view! {
                    <nav class="town-choices" aria-label="Towns with that name">
                        <p>"Which one?"</p>
                        <ul>
                            {choices
                                .into_iter()
                                .map(|town| {
                                    view! {
                                        <li>
                                            <a href=link(town.town_id)>{town.label}</a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </nav>
                }
            })}
    }
}

/// The specification's filters in the filter panel.
#[component]
fn SpecFilterFields(specs: SpecFilters, facets: Facets) -> impl IntoView {
    let kw = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
    let items: Vec<EquipmentItem> = specs.equipment.items().collect();
    let power_open = specs.min_power_kw.is_some() || specs.max_power_kw.is_some();
    view! {
        <ChoiceBoxes
            name="body_type"
            legend="Body type"
            choices=boxes(&facets.body_types, &specs.body_types, BodyType::as_str, BodyType::label)
        />
        <ChoiceBoxes
            name="fuel"
            legend="Fuel"
            choices=boxes(&facets.fuels, &specs.fuels, Fuel::as_str, Fuel::label)
        />
        <ChoiceBoxes
            name="transmission"
            legend="Gearbox"
            choices=boxes(
                &facets.transmissions,
                &specs.transmissions,
                Transmission::as_str,
                Transmission::label,
            )
        />
        <ChoiceBoxes
            name="drive"
            legend="Drive"
            choices=boxes(&facets.drives, &specs.drives, Drive::as_str, Drive::label)
        />
        <ChoiceBoxes
            name="colour"
            legend="Colour"
            choices=boxes(&facets.colours, &specs.colours, Colour::as_str, Colour::label)
        />
        <details class="filter-group" open=power_open>
            <summary>"Power"</summary>
            <div class="field-row compact">
                <div class="field">
                    <label for="f-min-power">"Min power (kW)"</label>
                    <input
                        id="f-min-power"
                        name="min_power_kw"
                        type="text"
                        inputmode="numeric"
                        value=kw(specs.min_power_kw)
                        placeholder="Any"
                    />
                </div>
                <div class="field">
                    <label for="f-max-power">"Max power (kW)"</label>
                    <input
                        id="f-max-power"
                        name="max_power_kw"
                        type="text"
                        inputmode="numeric"
                        value=kw(specs.max_power_kw)
                        placeholder="Any"
                    />
                </div>
            </div>
        </details>
        <ChoiceBoxes
            name="equipment"
            legend="Equipment (has all)"
            choices=boxes(&facets.equipment, &items, EquipmentItem::as_str, EquipmentItem::label)
        />
    }
}

#[component]
pub(super) fn Results(page: CarPage, filters: CarFilters) -> impl IntoView {
    let count = page.total;
    let heading = match count {
        _ if page.is_capped() => format!("More than {} cars", group_thousands(MAX_RESULTS)),
        1 => "1 car".to_owned(),
        n => format!("{} cars", group_thousands(n)),
    };
    let chips = active_chips(&filters);
    let body = if page.cars.is_empty() {
        view! {
            <div class="empty-state">
                <h2>
                    {if filters.is_filtered() {
                        "No cars match your filters"
                    } else {
                        "No cars for sale yet"
                    }}
                </h2>
                <p class="muted">
                    {if filters.is_filtered() {
                        "Try widening the price or year range, or clear the filters to see every car."
                    } else {
                        "Be the first: list your car in a couple of minutes."
                    }}
                </p>
                {if filters.is_filtered() {
                    view! {
                        <a class="button button-primary" href="/cars">
                            "Clear filters"
                        </a>
                    }
                        .into_any()
                } else {
                    view! {
                        <a class="button button-primary" href="/sell">
                            "Sell your car"
                        </a>
                    }
                        .into_any()
                }}
            </div>
        }
            .into_any()
    } else {
        view! {
            <CarList cars=page.cars.clone() />
            <Pagination page=page.page pages=page.page_count() filters=filters.clone() />
        }
        .into_any()
    };
    view! {
        <div class="results-head">
            <h2 id="results-heading" class="results-count" aria-live="polite">
                {heading}
            </h2>
            <p class="muted sort-note">
                {format!("Sorted by {}", filters.sort.label().to_lowercase())}
            </p>
        </div>
        {page
            .is_capped()
            .then(|| {
                view! {
                    <p class="muted capped-note">
                        {format!(
                            "Showing the first {} in this order. Search or filter to find the rest.",
                            group_thousands(MAX_RESULTS),
                        )}
                    </p>
                }
            })}
        {(!chips.is_empty())
            .then(|| {
                view! {
                    <ul class="active-filters" aria-label="Active filters">
                        {chips
                            .into_iter()
                            .map(|(label, href)| {
                                let name = format!("Remove filter: {label}");
                                view! {
                                    <li>
                                        <a class="chip-remove" href=href aria-label=name>
                                            {label}
                                            <span aria-hidden="true">" ×"</span>
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        {body}
    }
}

/// Each active filter with the link that removes it.
pub(super) fn active_chips(filters: &CarFilters) -> Vec<(String, String)> {
    let mut chips = Vec::new();
    let without = |change: &dyn Fn(&mut CarFilters)| {
        let mut f = filters.clone();
        change(&mut f);
        let q = f.to_query(1);
        if q.is_empty() {
            "/cars".to_owned()
        } else {
            format!("/cars?{q}")
        }
    };
    if let Some(q) = &filters.q {
        chips.push((format!("“{q}”"), without(&|f| f.q = None)));
    }
    if let Some(v) = filters.min_price_cents {
        chips.push((
            format!("From {}", format_price(v)),
            without(&|f| f.min_price_cents = None),
        ));
    }
    if let Some(v) = filters.max_price_cents {
        chips.push((
            format!("Up to {}", format_price(v)),
            without(&|f| f.max_price_cents = None),
        ));
    }
    if let Some(v) = filters.min_year {
        chips.push((format!("{v} or newer"), without(&|f| f.min_year = None)));
    }
    if let Some(v) = filters.max_year {
        chips.push((format!("{v} or older"), without(&|f| f.max_year = None)));
    }
    if let Some(v) = &filters.make {
        chips.push((v.clone(), without(&|f| f.make = None)));
    }
    if let Some(v) = filters.condition {
        chips.push((v.label().to_owned(), without(&|f| f.condition = None)));
    }
    if let Some(v) = filters.min_mileage_km {
        chips.push((
            format!("From {}", format_mileage(v)),
            without(&|f| f.min_mileage_km = None),
        ));
    }
    if let Some(v) = filters.max_mileage_km {
        chips.push((
            format!("Under {}", format_mileage(v)),
            without(&|f| f.max_mileage_km = None),
        ));
    }
    if let Some(near) = filters.near {
        let town = Place::of(near.town_id).map_or_else(|| "your town".to_owned(), |t| t.label);
        chips.push((
            format!("Within {} km of {town}", near.radius_km),
            without(&|f| f.near = None),
        ));
    }
    let specs = &filters.specs;
    list_chips(
        &mut chips,
        &without,
        &specs.body_types,
        BodyType::label,
        |s, c| s.body_types.retain(|x| *x != c),
    );
    list_chips(&mut chips, &without, &specs.fuels, Fuel::label, |s, c| {
        s.fuels.retain(|x| *x != c)
    });
    list_chips(
        &mut chips,
        &without,
        &specs.transmissions,
        Transmission::label,
        |s, c| s.transmissions.retain(|x| *x != c),
    );
    list_chips(&mut chips, &without, &specs.drives, Drive::label, |s, c| {
        s.drives.retain(|x| *x != c)
    });
    list_chips(
        &mut chips,
        &without,
        &specs.colours,
        Colour::label,
        |s, c| s.colours.retain(|x| *x != c),
    );
    if let Some(kw) = specs.min_power_kw {
        chips.push((
            format!("From {}", format_power(kw)),
            without(&|f| f.specs.min_power_kw = None),
        ));
    }
    if let Some(kw) = specs.max_power_kw {
        chips.push((
            format!("Up to {}", format_power(kw)),
            without(&|f| f.specs.max_power_kw = None),
        ));
    }
    for item in specs.equipment.items() {
        chips.push((
            item.label().to_owned(),
            without(&|f| {
                f.specs.equipment = f.specs.equipment.items().filter(|i| *i != item).collect()
            }),
        ));
    }
    chips
}

/// The link to the marketplace with one change to its filters.
type Without<'a> = &'a dyn Fn(&dyn Fn(&mut CarFilters)) -> String;

/// A chip for each choice of a list filter, its link removing that choice only.
fn list_chips<T: Copy>(
    chips: &mut Vec<(String, String)>,
    without: Without,
    chosen: &[T],
    label: fn(T) -> &'static str,
    remove: fn(&mut SpecFilters, T),
) {
    for &choice in chosen {
        chips.push((
            label(choice).to_owned(),
            without(&|f| remove(&mut f.specs, choice)),
        ));
    }
}

/// Checkboxes for the choices of one list filter, in a disclosure that starts open when
/// one of them is chosen.
#[component]
fn ChoiceBoxes(name: &'static str, legend: &'static str, choices: Vec<Choice>) -> impl IntoView {
    let open = choices.iter().any(|choice| choice.chosen);
    view! {
        <details class="filter-group" open=open>
            <summary>{legend}</summary>
            <fieldset>
                <legend class="visually-hidden">{legend}</legend>
                <ul class="checkbox-list">
                    {choices
                        .into_iter()
                        .map(|Choice { id, label, chosen, cars }| {
                            let input_id = format!("f-{name}-{id}");
                            let count_id = format!("{input_id}-cars");
                            // A choice that would leave no car is shown, but cannot be
                            // ticked (unless it already is, so it can be taken off).
                            view! {
                                <li class:empty=cars == 0>
                                    <input
                                        type="checkbox"
                                        id=input_id.clone()
                                        name=name
                                        value=id
                                        checked=chosen
                                        disabled=cars == 0 && !chosen
                                        aria-describedby=count_id.clone()
                                    />
                                    <label for=input_id>{label}</label>
                                    <span class="facet-count" id=count_id>
                                        {match cars {
                                            1 => "1 car".to_owned(),
                                            n => format!("{} cars", group_thousands(n)),
                                        }}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </fieldset>
        </details>
    }
}

/// One choice of a list filter in the panel.
struct Choice {
    id: &'static str,
    label: &'static str,
    chosen: bool,
    /// How many cars choosing it would leave (see `Facets`).
    cars: i64,
}

/// The choices of a list filter (from its counts, which list every choice in order), each
/// with whether it is chosen.
fn boxes<T: Copy + PartialEq>(
    counts: &[(T, i64)],
    chosen: &[T],
    id: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    counts
        .iter()
        .map(|&(c, cars)| Choice {
            id: id(c),
            label: label(c),
            chosen: chosen.contains(&c),
            cars,
        })
        .collect()
}

#[component]
pub(super) fn Pagination(page: u32, pages: u32, filters: CarFilters) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let href = move |p: u32| {
        let q = filters.to_query(p);
        if q.is_empty() {
            "/cars".to_owned()
        } else {
            format!("/cars?{q}")
        }
    };
    // First, last, and two either side of the current page.
    let mut shown: Vec<u32> = (1..=pages)
        .filter(|p| *p == 1 || *p == pages || p.abs_diff(page) <= 2)
        .collect();
    shown.dedup();
    let mut items = Vec::new();
    let mut last = 0;
    for p in shown {
        if p > last + 1 {
            items.push(
                view! {
                    <li class="gap" aria-hidden="true">
                        "…"
                    </li>
                }
                .into_any(),
            );
        }
        let current = p == page;
        items.push(
            view! {
                <li>
                    <a
                        href=href(p)
                        aria-current=current.then_some("page")
                        aria-label=format!("Page {p}")
                        class:current=current
                    >
                        {p}
                    </a>
                </li>
            }
            .into_any(),
        );
        last = p;
    }
    view! {
        <nav class="pagination" aria-label="Pages">
            {(page > 1)
                .then(|| {
                    view! {
                        <a class="button button-outline" rel="prev" href=href(page - 1)>
                            "Previous"
                        </a>
                    }
                })}
            <ul>{items}</ul>
            {(page < pages)
                .then(|| {
                    view! {
                        <a class="button button-outline" rel="next" href=href(page + 1)>
                            "Next"
                        </a>
                    }
                })}
        </nav>
    }
    .into_any()
}
