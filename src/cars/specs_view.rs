//! The specification on the pages: its part of the sell / edit form and its table on the
//! details page. Both are rendered on the server only (the form's part is a child of the
//! form's island), so they add nothing to the browser's bundle.

use super::model::{
    BodyType, Colour, Drive, EquipmentItem, Fuel, Specs, SpecsForm, Transmission, MAX_DOORS,
    MAX_OWNERS, MAX_SEATS,
};
use crate::error::FieldErrors;
use leptos::prelude::*;

/// A field's error, under the field (as the island's own fields show theirs).
pub(super) fn error_line(errors: &FieldErrors, name: &str) -> Option<impl IntoView> {
    errors.get(name).map(|message| {
        view! {
            <p class="field-error" id=format!("car-{name}-error")>
                {message.clone()}
            </p>
        }
    })
}

/// A choice from a fixed list, or "Not given".
#[component]
fn ChoiceField(
    name: &'static str,
    label: &'static str,
    choices: Vec<(&'static str, &'static str)>,
    value: String,
    errors: FieldErrors,
) -> impl IntoView {
    let id = format!("car-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select
                id=id
                name=name
                aria-invalid=errors.contains_key(name).then_some("true")
                aria-describedby=format!("car-{name}-error")
            >
                <option value="" selected=value.is_empty()>
                    "Not given"
                </option>
                {choices
                    .into_iter()
                    .map(|(id, label)| {
                        view! {
                            <option value=id selected=value == id>
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {error_line(&errors, name)}
        </div>
    }
}

/// A number, typed as text (so "1,998" is read as people write it).
#[component]
fn FigureField(
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional)] hint: Option<String>,
    #[prop(default = "numeric")] inputmode: &'static str,
    errors: FieldErrors,
) -> impl IntoView {
    let id = format!("car-{name}");
    let described = match hint {
        Some(_) => format!("car-{name}-hint car-{name}-error"),
        None => format!("car-{name}-error"),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type="text"
                inputmode=inputmode
                maxlength="10"
                value=value
                aria-invalid=errors.contains_key(name).then_some("true")
                aria-describedby=described
            />
            {hint
                .map(|hint| {
                    view! {
                        <p class="hint" id=format!("car-{name}-hint")>
                            {hint}
                        </p>
                    }
                })}
            {error_line(&errors, name)}
        </div>
    }
}

fn choices<T: Copy>(
    all: &[T],
    id: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|c| (id(*c), label(*c))).collect()
}

/// The specification's part of the sell / edit form.
#[component]
pub fn SpecsFields(form: SpecsForm, errors: FieldErrors) -> impl IntoView {
    let SpecsForm {
        body_type,
        fuel,
        transmission,
        drive,
        colour,
        power_kw,
        engine_cc,
        battery_kwh,
        doors,
        seats,
        previous_owners,
        first_registration,
        equipment,
    } = form;
    let e = || errors.clone();
    view! {
        <fieldset class="specs stack">
            <legend>"Specification"</legend>
            <p class="hint">
                "Optional, but buyers filter by these: the more you fill in, the more buyers find your car."
            </p>
            <div class="field-row">
                <ChoiceField
                    name="body_type"
                    label="Body type"
                    choices=choices(BodyType::ALL, BodyType::as_str, BodyType::label)
                    value=body_type
                    errors=e()
                />
                <ChoiceField
                    name="fuel"
                    label="Fuel"
                    choices=choices(Fuel::ALL, Fuel::as_str, Fuel::label)
                    value=fuel
                    errors=e()
                />
            </div>
            <div class="field-row">
                <ChoiceField
                    name="transmission"
                    label="Gearbox"
                    choices=choices(Transmission::ALL, Transmission::as_str, Transmission::label)
                    value=transmission
                    errors=e()
                />
                <ChoiceField
                    name="drive"
                    label="Drive"
                    choices=choices(Drive::ALL, Drive::as_str, Drive::label)
                    value=drive
                    errors=e()
                />
            </div>
            <div class="field-row">
                <ChoiceField
                    name="colour"
                    label="Colour"
                    choices=choices(Colour::ALL, Colour::as_str, Colour::label)
                    value=colour
                    errors=e()
                />
                <div class="field">
                    <label for="car-first_registration">"First registration"</label>
                    <input
                        id="car-first_registration"
                        name="first_registration"
                        type="month"
                        value=first_registration
                        placeholder="2019-04"
                        aria-invalid=errors.contains_key("first_registration").then_some("true")
                        aria-describedby="car-first_registration-hint car-first_registration-error"
                    />
                    <p class="hint" id="car-first_registration-hint">
                        "Year and month, for example 2019-04"
                    </p>
                    {error_line(&errors, "first_registration")}
                </div>
            </div>
            <div class="field-row">
                <FigureField
                    name="power_kw"
                    label="Power (kW)"
                    value=power_kw
                    hint="1 hp is 0.735 kW: 150 hp is 110 kW".to_owned()
                    errors=e()
                />
                <FigureField
                    name="engine_cc"
                    label="Engine size (cc)"
                    value=engine_cc
                    hint="Leave empty for an electric car".to_owned()
                    errors=e()
                />
            </div>
            <div class="field-row">
                <FigureField
                    name="battery_kwh"
                    label="Battery capacity (kWh)"
                    value=battery_kwh
                    hint="Electric and plug-in hybrid cars".to_owned()
                    inputmode="decimal"
                    errors=e()
                />
                <FigureField
                    name="previous_owners"
                    label="Previous owners"
                    value=previous_owners
                    hint=format!("0 to {MAX_OWNERS}")
                    errors=e()
                />
            </div>
            <div class="field-row">
                <FigureField
                    name="doors"
                    label="Doors"
                    value=doors
                    hint=format!("1 to {MAX_DOORS}")
                    errors=e()
                />
                <FigureField
                    name="seats"
                    label="Seats"
                    value=seats
                    hint=format!("1 to {MAX_SEATS}")
                    errors=e()
                />
            </div>
            <fieldset id="car-equipment" class="equipment" aria-describedby="car-equipment-error">
                <legend>"Equipment"</legend>
                <ul class="checkbox-grid">
                    {EquipmentItem::ALL
                        .iter()
                        .map(|item| {
                            let id = format!("car-equipment-{}", item.as_str());
                            let checked = equipment.iter().any(|chosen| chosen == item.as_str());
                            view! {
                                <li>
                                    <input
                                        type="checkbox"
                                        id=id.clone()
                                        name="equipment"
                                        value=item.as_str()
                                        checked=checked
                                    />
                                    <label for=id>{item.label()}</label>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                {error_line(&errors, "equipment")}
            </fieldset>
        </fieldset>
    }
}

/// The details page's specification table and equipment list; nothing when the seller
/// has given none of it.
#[component]
pub fn SpecsTable(specs: Specs) -> impl IntoView {
    let rows = specs.rows();
    let equipment: Vec<EquipmentItem> = specs.equipment.items().collect();
    (!rows.is_empty() || !equipment.is_empty()).then(|| {
        view! {
            <section class="details-specs" aria-labelledby="specs-heading">
                <h2 id="specs-heading">"Specification"</h2>
                {(!rows.is_empty())
                    .then(|| {
                        view! {
                            <table class="facts">
                                <caption class="visually-hidden">"Specification"</caption>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|(label, value)| {
                                            view! {
                                                <tr>
                                                    <th scope="row">{label}</th>
                                                    <td>{value}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                    })}
                {(!equipment.is_empty())
                    .then(|| {
                        view! {
                            <h3 id="equipment-heading">"Equipment"</h3>
                            <ul class="equipment-list" aria-labelledby="equipment-heading">
                                {equipment
                                    .into_iter()
                                    .map(|item| view! { <li>{item.label()}</li> })
                                    .collect_view()}
                            </ul>
                        }
                    })}
            </section>
        }
    })
}
