//! Car types shared by server and browser, and the validation both sides run.

use crate::error::FieldErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Cars per marketplace page.
pub const PAGE_SIZE: u32 = 24;
/// How many matches a list counts and lets you page through. Beyond it the marketplace
/// says "more than 10,000" and asks for a narrower search, so a count or a deep page costs
/// the same with a million listings as with ten thousand.
pub const MAX_RESULTS: i64 = 10_000;
pub const MAX_PRICE_CENTS: i64 = 999_999_999_999;
pub const MAX_MILEAGE_KM: i64 = 2_000_000;
pub const MIN_YEAR: i32 = 1886;
pub const MAX_TEXT: usize = 100;
pub const MAX_DESCRIPTION: usize = 5_000;
pub const MAX_URL: usize = 2_000;
pub const MAX_SEARCH: usize = 100;
/// Deepest page number accepted (keeps OFFSET arithmetic small).
pub const MAX_PAGE: u32 = 100_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    New,
    #[default]
    Used,
}

impl Condition {
    pub const ALL: [Condition; 2] = [Condition::New, Condition::Used];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::New => "new",
            Condition::Used => "used",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Condition::New => "New",
            Condition::Used => "Used",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "new" => Some(Condition::New),
            "used" => Some(Condition::Used),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Available,
    Pending,
    Sold,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Available, Status::Pending, Status::Sold];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Pending => "pending",
            Status::Sold => "sold",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Available => "Available",
            Status::Pending => "Sale pending",
            Status::Sold => "Sold",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "available" => Some(Status::Available),
            "pending" => Some(Status::Pending),
            "sold" => Some(Status::Sold),
            _ => None,
        }
    }
}

/// A listing as the marketplace grid shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarSummary {
    pub id: i64,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub status: Status,
    /// Where the photo can be loaded from: an uploaded photo, else the image URL.
    pub image: Option<String>,
}

impl CarSummary {
    pub fn title(&self) -> String {
        format!("{} {} {}", self.year, self.make, self.model)
    }
}

/// Everything about one listing, for its details page and its edit form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Car {
    pub id: i64,
    pub seller_id: i64,
    pub seller_username: String,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub description: String,
    /// Path of the uploaded photo (under /media), if any.
    pub photo_url: Option<String>,
    pub image_url: Option<String>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Car {
    pub fn title(&self) -> String {
        format!("{} {} {}", self.year, self.make, self.model)
    }

    pub fn image(&self) -> Option<String> {
        self.photo_url.clone().or_else(|| self.image_url.clone())
    }
}

/// The text fields of the sell / edit form, exactly as the user typed them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarForm {
    pub make: String,
    pub model: String,
    pub year: String,
    pub price: String,
    pub mileage: String,
    pub condition: String,
    pub description: String,
    pub image_url: String,
}

impl CarForm {
    /// Every field name, as forms and the API send them.
    pub const FIELDS: [&'static str; 8] = [
        "make",
        "model",
        "year",
        "price",
        "mileage",
        "condition",
        "description",
        "image_url",
    ];
    /// Fields without a default: a full replacement (API PUT) must send them.
    pub const REQUIRED: [&'static str; 5] = ["make", "model", "year", "price", "mileage"];

    /// The form pre-filled from an existing listing.
    pub fn from_car(car: &Car) -> Self {
        CarForm {
            make: car.make.clone(),
            model: car.model.clone(),
            year: car.year.to_string(),
            price: format_price_input(car.price_cents),
            mileage: car.mileage_km.to_string(),
            condition: car.condition.as_str().to_owned(),
            description: car.description.clone(),
            image_url: car.image_url.clone().unwrap_or_default(),
        }
    }

    /// Sets one field by its form name; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: String) {
        match name {
            "make" => self.make = value,
            "model" => self.model = value,
            "year" => self.year = value,
            "price" => self.price = value,
            "mileage" => self.mileage = value,
            "condition" => self.condition = value,
            "description" => self.description = value,
            "image_url" => self.image_url = value,
            _ => {}
        }
    }

    /// The form with each field cut to its longest valid length: what is worth keeping when
    /// a rejected form is shown again (it waits in the session, which must stay small).
    pub fn truncated(mut self) -> Self {
        fn cut(text: &mut String, max_chars: usize) {
            if let Some((at, _)) = text.char_indices().nth(max_chars) {
                text.truncate(at);
            }
        }
        for (field, max) in [
            (&mut self.make, MAX_TEXT),
            (&mut self.model, MAX_TEXT),
            (&mut self.year, MAX_TEXT),
            (&mut self.price, MAX_TEXT),
            (&mut self.mileage, MAX_TEXT),
            (&mut self.condition, MAX_TEXT),
            (&mut self.description, MAX_DESCRIPTION),
            (&mut self.image_url, MAX_URL),
        ] {
            cut(field, max);
        }
        self
    }

    /// Validates every field, collecting one message per bad field.
    /// `current_year` bounds the model year (next year's models are allowed).
    pub fn validate(&self, current_year: i32) -> Result<CarDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.insert(field.to_owned(), message);
            }
        };
        let make = parse_name("Make", &self.make);
        let model = parse_name("Model", &self.model);
        let year = parse_year(&self.year, current_year);
        let price = parse_price(&self.price);
        let mileage = parse_mileage(&self.mileage);
        let condition = if self.condition.trim().is_empty() {
            Ok(Condition::Used)
        } else {
            Condition::parse(&self.condition).ok_or_else(|| "Choose New or Used.".to_owned())
        };
        let description = parse_description(&self.description);
        let image_url = parse_image_url(&self.image_url);

        check("make", make.as_ref().map(|_| ()).map_err(Clone::clone));
        check("model", model.as_ref().map(|_| ()).map_err(Clone::clone));
        check("year", year.as_ref().map(|_| ()).map_err(Clone::clone));
        check("price", price.as_ref().map(|_| ()).map_err(Clone::clone));
        check(
            "mileage",
            mileage.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        check(
            "condition",
            condition.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        check(
            "description",
            description.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        check(
            "image_url",
            image_url.as_ref().map(|_| ()).map_err(Clone::clone),
        );

        match (
            make,
            model,
            year,
            price,
            mileage,
            condition,
            description,
            image_url,
        ) {
            (
                Ok(make),
                Ok(model),
                Ok(year),
                Ok(price_cents),
                Ok(mileage_km),
                Ok(condition),
                Ok(description),
                Ok(image_url),
            ) => Ok(CarDraft {
                make,
                model,
                year,
                price_cents,
                mileage_km,
                condition,
                description,
                image_url,
            }),
            _ => Err(errors),
        }
    }
}

/// A validated listing, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarDraft {
    pub make: String,
    pub model: String,
    pub year: i32,
    pub price_cents: i64,
    pub mileage_km: i64,
    pub condition: Condition,
    pub description: String,
    pub image_url: Option<String>,
}

/// Make or model: trimmed, 1 to 100 characters, no control characters.
pub fn parse_name(label: &str, raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(format!("{label} is required."));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(format!("{label} must be at most {MAX_TEXT} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{label} contains characters that are not allowed."));
    }
    Ok(value.to_owned())
}

pub fn parse_year(raw: &str, current_year: i32) -> Result<i32, String> {
    let max = current_year + 1;
    let value = raw.trim();
    if value.is_empty() {
        return Err("Year is required.".into());
    }
    match value.parse::<i32>() {
        Ok(year) if (MIN_YEAR..=max).contains(&year) => Ok(year),
        _ => Err(format!("Enter a year between {MIN_YEAR} and {max}.")),
    }
}

/// A price in dollars ("15999", "15,999.50", "$15 999") to integer cents.
/// No floating point: the digits are read as they are.
pub fn parse_price(raw: &str) -> Result<i64, String> {
    const BAD: &str = "Enter a price in dollars, for example 15999 or 15999.50.";
    let cleaned: String = raw
        .trim()
        .trim_start_matches('$')
        .chars()
        .filter(|c| *c != ',' && *c != ' ' && *c != '_')
        .collect();
    if cleaned.is_empty() {
        return Err("Price is required.".into());
    }
    let (whole, fraction) = match cleaned.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (cleaned.as_str(), ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(BAD.into());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(BAD.into());
    }
    if fraction.len() > 2 {
        return Err("Price can have at most 2 decimal places.".into());
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 10 {
        return Err("Price must be at most $9,999,999,999.99.".into());
    }
    let dollars: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| BAD.to_owned())?
    };
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().map_err(|_| BAD.to_owned())? * 10,
        _ => fraction.parse().map_err(|_| BAD.to_owned())?,
    };
    let total = dollars * 100 + cents;
    if total <= 0 {
        return Err("Price must be more than $0.".into());
    }
    if total > MAX_PRICE_CENTS {
        return Err("Price must be at most $9,999,999,999.99.".into());
    }
    Ok(total)
}

pub fn parse_mileage(raw: &str) -> Result<i64, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ' && *c != '_')
        .collect();
    if cleaned.is_empty() {
        return Err("Mileage is required (enter 0 for a new car).".into());
    }
    if !cleaned.chars().all(|c| c.is_ascii_digit()) || cleaned.len() > 9 {
        return Err("Enter the mileage in whole kilometres, for example 84000.".into());
    }
    let km: i64 = cleaned
        .parse()
        .map_err(|_| "Enter the mileage in whole kilometres.".to_owned())?;
    if km > MAX_MILEAGE_KM {
        return Err("Mileage must be at most 2,000,000 km.".into());
    }
    Ok(km)
}

pub fn parse_description(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.chars().count() > MAX_DESCRIPTION {
        return Err(format!(
            "Description must be at most {MAX_DESCRIPTION} characters."
        ));
    }
    // Keep line breaks and tabs; drop other control characters.
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("Description contains characters that are not allowed.".into());
    }
    Ok(value.replace("\r\n", "\n"))
}

/// Optional image URL: only absolute http(s) URLs with a host.
pub fn parse_image_url(raw: &str) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > MAX_URL {
        return Err(format!("Image URL must be at most {MAX_URL} characters."));
    }
    let bad = || "Enter a full web address starting with http:// or https://.".to_owned();
    let url = WebAddress::parse(value).ok_or_else(bad)?;
    if !matches!(url.scheme.as_str(), "http" | "https") || url.host.is_empty() {
        return Err(bad());
    }
    Ok(Some(url.href))
}

/// A parsed absolute URL. Both sides follow the WHATWG URL standard: the server with the
/// `url` crate, the browser with its own `URL` (the crate's Unicode tables would be a
/// large part of the browser bundle).
struct WebAddress {
    /// Without the trailing ':'.
    scheme: String,
    host: String,
    href: String,
}

impl WebAddress {
    #[cfg(not(feature = "hydrate"))]
    fn parse(value: &str) -> Option<Self> {
        let url = url::Url::parse(value).ok()?;
        Some(WebAddress {
            scheme: url.scheme().to_owned(),
            host: url.host_str().unwrap_or_default().to_owned(),
            href: url.to_string(),
        })
    }

    #[cfg(feature = "hydrate")]
    fn parse(value: &str) -> Option<Self> {
        let url = web_sys::Url::new(value).ok()?;
        Some(WebAddress {
            scheme: url.protocol().trim_end_matches(':').to_owned(),
            host: url.hostname(),
            href: url.href(),
        })
    }
}

/// A price bound in a filter: like a listing's price, but zero is allowed.
pub fn parse_price_filter(raw: &str) -> Option<i64> {
    let digits = raw.trim().trim_start_matches('$');
    if !digits.is_empty() && digits.contains('0') && digits.chars().all(|c| c == '0' || c == '.') {
        return (digits.matches('.').count() <= 1).then_some(0);
    }
    parse_price(raw).ok()
}

/// "$15,999" or "$15,999.50".
pub fn format_price(cents: i64) -> String {
    let dollars = group_thousands(cents / 100);
    match cents % 100 {
        0 => format!("${dollars}"),
        rest => format!("${dollars}.{rest:02}"),
    }
}

/// The price as the edit form shows it: "15999" or "15999.50".
pub fn format_price_input(cents: i64) -> String {
    match cents % 100 {
        0 => (cents / 100).to_string(),
        rest => format!("{}.{rest:02}", cents / 100),
    }
}

/// "84,000 km".
pub fn format_mileage(km: i64) -> String {
    format!("{} km", group_thousands(km))
}

pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How the marketplace orders its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    #[default]
    Newest,
    /// Best text-search match first (the default while searching); newest without a search.
    BestMatch,
    Oldest,
    PriceAsc,
    PriceDesc,
    YearDesc,
    YearAsc,
}

impl Sort {
    pub const ALL: [Sort; 7] = [
        Sort::BestMatch,
        Sort::Newest,
        Sort::Oldest,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::YearDesc,
        Sort::YearAsc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::BestMatch => "best_match",
            Sort::Oldest => "oldest",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::YearDesc => "year_desc",
            Sort::YearAsc => "year_asc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Newest => "Newest listings first",
            Sort::BestMatch => "Best match",
            Sort::Oldest => "Oldest listings first",
            Sort::PriceAsc => "Price: low to high",
            Sort::PriceDesc => "Price: high to low",
            Sort::YearDesc => "Year: newest first",
            Sort::YearAsc => "Year: oldest first",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Sort::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn order(self) -> OrderTerm {
        let (field, descending) = match self {
            Sort::Newest => (OrderField::CreatedAt, true),
            Sort::BestMatch => (OrderField::Relevance, true),
            Sort::Oldest => (OrderField::CreatedAt, false),
            Sort::PriceAsc => (OrderField::Price, false),
            Sort::PriceDesc => (OrderField::Price, true),
            Sort::YearDesc => (OrderField::Year, true),
            Sort::YearAsc => (OrderField::Year, false),
        };
        OrderTerm { field, descending }
    }
}

/// A column results can be ordered by (the API's `ordering` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderField {
    CreatedAt,
    /// How well a listing matches the search (marketplace only; without a search, newest first).
    Relevance,
    Price,
    Year,
}

/// One ordering key, as in DRF's `ordering=-price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTerm {
    pub field: OrderField,
    pub descending: bool,
}

impl OrderTerm {
    /// Newest listings first: the default order everywhere.
    pub const NEWEST: OrderTerm = OrderTerm {
        field: OrderField::CreatedAt,
        descending: true,
    };

    /// Reads a DRF `ordering` value: comma-separated names, `-` for descending.
    /// Unknown names are ignored as DRF does; none left means the default order.
    pub fn parse_list(raw: &str) -> Vec<OrderTerm> {
        let mut terms: Vec<OrderTerm> = Vec::new();
        for part in raw.split(',').take(8) {
            let part = part.trim();
            let (descending, name) = match part.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, part),
            };
            let field = match name {
                "created_at" => OrderField::CreatedAt,
                "price" => OrderField::Price,
                "year" => OrderField::Year,
                _ => continue,
            };
            if terms.iter().all(|t| t.field != field) {
                terms.push(OrderTerm { field, descending });
            }
        }
        if terms.is_empty() {
            terms.push(OrderTerm::NEWEST);
        }
        terms
    }
}

/// The marketplace filters, parsed from the URL query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarFilters {
    pub q: Option<String>,
    pub min_price_cents: Option<i64>,
    pub max_price_cents: Option<i64>,
    pub min_year: Option<i32>,
    pub max_year: Option<i32>,
    pub make: Option<String>,
    pub condition: Option<Condition>,
    pub max_mileage_km: Option<i64>,
    pub sort: Sort,
    pub page: u32,
}

/// Query-string names of the filters, as the form and the URL use them.
pub const FILTER_KEYS: [&str; 9] = [
    "q",
    "min_price",
    "max_price",
    "min_year",
    "max_year",
    "make",
    "condition",
    "max_mileage",
    "sort",
];

impl CarFilters {
    /// Reads filters from query parameters (`get` looks one up by name). A value
    /// that cannot be used is left out and reported under its parameter name, so
    /// the page can show the rest and the API can answer 400 naming the field.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> (Self, FieldErrors) {
        let mut problems = FieldErrors::new();
        let text = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut filters = CarFilters {
            page: 1,
            ..Default::default()
        };

        filters.q = text("q");
        let mut price = |key: &str, label: &str| {
            text(key).and_then(|raw| match parse_price_filter(&raw) {
                Some(cents) => Some(cents),
                None => {
                    problems.insert(
                        key.to_owned(),
                        format!("{label} must be an amount in dollars, like 20000."),
                    );
                    None
                }
            })
        };
        filters.min_price_cents = price("min_price", "Min price");
        filters.max_price_cents = price("max_price", "Max price");
        let mut year = |key: &str, label: &str| {
            text(key).and_then(|raw| match raw.parse::<i32>() {
                Ok(y) if (0..=9999).contains(&y) => Some(y),
                _ => {
                    problems.insert(
                        key.to_owned(),
                        format!("{label} must be a year, like 2018."),
                    );
                    None
                }
            })
        };
        filters.min_year = year("min_year", "Min year");
        filters.max_year = year("max_year", "Max year");
        filters.make = text("make");
        filters.condition = text("condition").and_then(|c| {
            let condition = Condition::parse(&c);
            if condition.is_none() {
                problems.insert("condition".into(), "Condition must be new or used.".into());
            }
            condition
        });
        filters.max_mileage_km = text("max_mileage").and_then(|raw| match parse_mileage(&raw) {
            Ok(km) => Some(km),
            Err(_) => {
                problems.insert(
                    "max_mileage".into(),
                    "Max mileage must be a whole number of kilometres.".into(),
                );
                None
            }
        });
        filters.sort = text("sort")
            .and_then(|s| Sort::parse(&s))
            .unwrap_or(filters.default_sort());
        filters.page = text("page")
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .unwrap_or(1);
        // Search and make are cut to their limits in one place, shared with JSON filters.
        (filters.bounded(), problems)
    }

    /// Best matches first while searching, newest first otherwise.
    pub fn default_sort(&self) -> Sort {
        if self.q.is_some() {
            Sort::BestMatch
        } else {
            Sort::Newest
        }
    }

    /// The query string for these filters at another page ("" for page 1 with no filters).
    pub fn to_query(&self, page: u32) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if let Some(v) = self.min_price_cents {
            pairs.push(("min_price", format_price_input(v)));
        }
        if let Some(v) = self.max_price_cents {
            pairs.push(("max_price", format_price_input(v)));
        }
        if let Some(v) = self.min_year {
            pairs.push(("min_year", v.to_string()));
        }
        if let Some(v) = self.max_year {
            pairs.push(("max_year", v.to_string()));
        }
        if let Some(v) = &self.make {
            pairs.push(("make", v.clone()));
        }
        if let Some(v) = self.condition {
            pairs.push(("condition", v.as_str().to_owned()));
        }
        if let Some(v) = self.max_mileage_km {
            pairs.push(("max_mileage", v.to_string()));
        }
        if self.sort != self.default_sort() {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            out.append_pair(k, &v);
        }
        out.finish()
    }

    /// The same filters within the limits the query string parser applies, for
    /// filters that arrive as JSON (a server-function call can send anything).
    pub fn bounded(mut self) -> Self {
        // Control characters never belong in a search or a make, and PostgreSQL refuses
        // a NUL in any text value: they become spaces, as between words.
        let clean = |text: String, limit: usize| {
            let text: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            Some(text.trim().chars().take(limit).collect::<String>()).filter(|t| !t.is_empty())
        };
        self.q = self.q.and_then(|q| clean(q, MAX_SEARCH));
        self.make = self.make.and_then(|m| clean(m, MAX_TEXT));
        self.page = self.page.clamp(1, MAX_PAGE);
        self
    }

    /// True when any filter (not sort or page) is set.
    pub fn is_filtered(&self) -> bool {
        self.q.is_some()
            || self.min_price_cents.is_some()
            || self.max_price_cents.is_some()
            || self.min_year.is_some()
            || self.max_year.is_some()
            || self.make.is_some()
            || self.condition.is_some()
            || self.max_mileage_km.is_some()
    }
}

/// One page of marketplace results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarPage {
    pub cars: Vec<CarSummary>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
    /// Every make with a car for sale, whatever the filters: the Make filter's choices.
    pub makes: Vec<String>,
}

impl CarPage {
    /// Pages that can be reached (only the first `MAX_RESULTS` matches are paged through).
    pub fn page_count(&self) -> u32 {
        page_count(self.total, self.page_size)
    }

    /// More matches than are counted: `total` is then `MAX_RESULTS + 1`.
    pub fn is_capped(&self) -> bool {
        self.total > MAX_RESULTS
    }
}

/// Pages of `page_size` needed for `total` matches, counting at most `MAX_RESULTS`.
pub fn page_count(total: i64, page_size: u32) -> u32 {
    let reachable = total.clamp(0, MAX_RESULTS) as u64;
    let pages = reachable.div_ceil(u64::from(page_size.max(1)));
    u32::try_from(pages).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_to_exact_cents() {
        let good = [
            ("15999", 1_599_900),
            ("15,999.50", 1_599_950),
            ("$15 999.5", 1_599_950),
            ("0.01", 1),
            (".5", 50),
            ("9999999999.99", MAX_PRICE_CENTS),
            ("0009.10", 910),
        ];
        for (raw, cents) in good {
            assert_eq!(parse_price(raw), Ok(cents), "{raw}");
        }
    }

    #[test]
    fn bad_prices_are_rejected_with_a_message() {
        for raw in [
            "",
            " ",
            "0",
            "0.00",
            "-5",
            "1.234",
            "10000000000",
            "abc",
            "1e5",
            "12.3.4",
            "NaN",
            ".",
            "$",
        ] {
            let result = parse_price(raw);
            assert!(
                result.is_err(),
                "{raw:?} should be rejected, got {result:?}"
            );
        }
    }

    #[test]
    fn years_are_bounded_by_the_first_car_and_next_year() {
        assert_eq!(parse_year("1886", 2026), Ok(1886));
        assert_eq!(parse_year(" 2027 ", 2026), Ok(2027));
        for raw in ["1885", "2028", "", "20x0", "-2020", "99999999999"] {
            assert!(parse_year(raw, 2026).is_err(), "{raw}");
        }
    }

    #[test]
    fn mileage_is_whole_kilometres_up_to_two_million() {
        assert_eq!(parse_mileage("0"), Ok(0));
        assert_eq!(parse_mileage("84,000"), Ok(84_000));
        assert_eq!(parse_mileage("2000000"), Ok(2_000_000));
        for raw in ["", "2000001", "-1", "12.5", "lots", "99999999999999"] {
            assert!(parse_mileage(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("Make", "  Toyota "), Ok("Toyota".into()));
        assert_eq!(parse_name("Make", &"a".repeat(100)), Ok("a".repeat(100)));
        assert!(parse_name("Make", &"a".repeat(101)).is_err());
        assert!(parse_name("Make", "   ").is_err());
        assert!(parse_name("Make", "To\u{0}yota").is_err());
    }

    #[test]
    fn description_may_be_empty_but_not_too_long() {
        assert_eq!(parse_description(""), Ok(String::new()));
        assert_eq!(
            parse_description("One owner.\r\nFull history."),
            Ok("One owner.\nFull history.".into())
        );
        assert!(parse_description(&"x".repeat(5_000)).is_ok());
        assert!(parse_description(&"x".repeat(5_001)).is_err());
    }

    #[test]
    fn image_urls_must_be_http_or_https() {
        assert_eq!(parse_image_url(""), Ok(None));
        assert_eq!(
            parse_image_url("https://example.com/car.jpg"),
            Ok(Some("https://example.com/car.jpg".into()))
        );
        assert!(parse_image_url("http://cdn.example.org/a.png?x=1")
            .unwrap()
            .is_some());
        for raw in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://example.com/a.jpg",
            "example.com/a.jpg",
            "https://",
            "/media/a.jpg",
        ] {
            assert!(parse_image_url(raw).is_err(), "{raw}");
        }
        assert!(parse_image_url(&format!("https://example.com/{}", "a".repeat(2_000))).is_err());
    }

    #[test]
    fn condition_and_status_parse_only_known_values() {
        assert_eq!(Condition::parse("NEW"), Some(Condition::New));
        assert_eq!(Condition::parse("used"), Some(Condition::Used));
        assert_eq!(Condition::parse("broken"), None);
        assert_eq!(Status::parse("sold"), Some(Status::Sold));
        assert_eq!(Status::parse("pending"), Some(Status::Pending));
        assert_eq!(Status::parse("stolen"), None);
    }

    #[test]
    fn a_whole_form_reports_every_bad_field() {
        let form = CarForm {
            make: "".into(),
            model: "Corolla".into(),
            year: "1700".into(),
            price: "abc".into(),
            mileage: "-4".into(),
            condition: "mint".into(),
            description: "".into(),
            image_url: "javascript:x".into(),
        };
        let errors = form.validate(2026).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["condition", "image_url", "make", "mileage", "price", "year"]
        );
    }

    #[test]
    fn a_good_form_becomes_a_draft() {
        let form = CarForm {
            make: " Toyota".into(),
            model: "Corolla ".into(),
            year: "2019".into(),
            price: "15,999".into(),
            mileage: "84000".into(),
            condition: "".into(),
            description: "Clean".into(),
            image_url: "".into(),
        };
        let draft = form.validate(2026).unwrap();
        assert_eq!(
            draft,
            CarDraft {
                make: "Toyota".into(),
                model: "Corolla".into(),
                year: 2019,
                price_cents: 1_599_900,
                mileage_km: 84_000,
                condition: Condition::Used,
                description: "Clean".into(),
                image_url: None
            }
        );
    }

    #[test]
    fn money_and_mileage_format_for_people() {
        assert_eq!(format_price(1_599_900), "$15,999");
        assert_eq!(format_price(1_599_950), "$15,999.50");
        assert_eq!(format_price(5), "$0.05");
        assert_eq!(format_price(MAX_PRICE_CENTS), "$9,999,999,999.99");
        assert_eq!(format_mileage(84_000), "84,000 km");
        assert_eq!(format_mileage(0), "0 km");
        assert_eq!(format_price_input(1_599_950), "15999.50");
    }

    #[test]
    fn filters_round_trip_through_the_query_string() {
        let query = "q=civic&min_price=5000&max_price=20000.50&min_year=2010&max_year=2020&make=Honda&condition=used&max_mileage=100000&sort=price_asc&page=3";
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let (filters, problems) = CarFilters::from_query(get);
        assert!(problems.is_empty());
        assert_eq!(filters.min_price_cents, Some(500_000));
        assert_eq!(filters.max_price_cents, Some(2_000_050));
        assert_eq!(filters.sort, Sort::PriceAsc);
        assert_eq!(filters.page, 3);
        assert_eq!(filters.to_query(3), query);
    }

    #[test]
    fn a_search_sorts_by_best_match_unless_told_otherwise() {
        let parse = |query: &'static str| {
            CarFilters::from_query(move |k| {
                url::form_urlencoded::parse(query.as_bytes())
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v.into_owned())
            })
            .0
        };
        let search = parse("q=ford");
        assert_eq!(search.sort, Sort::BestMatch);
        assert_eq!(search.to_query(1), "q=ford");
        let newest = parse("q=ford&sort=newest");
        assert_eq!(newest.sort, Sort::Newest);
        assert_eq!(newest.to_query(1), "q=ford&sort=newest");
        assert_eq!(parse("").sort, Sort::Newest);
    }

    #[test]
    fn unusable_filters_are_dropped_and_reported() {
        let get = |k: &str| match k {
            "min_price" => Some("cheap".to_owned()),
            "min_year" => Some("old".to_owned()),
            "page" => Some("-2".to_owned()),
            "sort" => Some("random".to_owned()),
            _ => None,
        };
        let (filters, problems) = CarFilters::from_query(get);
        assert_eq!(filters.min_price_cents, None);
        assert_eq!(filters.min_year, None);
        assert_eq!(filters.page, 1);
        assert_eq!(filters.sort, Sort::Newest);
        assert_eq!(
            problems.keys().map(String::as_str).collect::<Vec<_>>(),
            ["min_price", "min_year"]
        );
    }

    #[test]
    fn drf_ordering_keeps_known_fields_in_order() {
        let terms = OrderTerm::parse_list("-price, year,bogus,price");
        assert_eq!(
            terms,
            [
                OrderTerm {
                    field: OrderField::Price,
                    descending: true
                },
                OrderTerm {
                    field: OrderField::Year,
                    descending: false
                },
            ]
        );
        assert_eq!(OrderTerm::parse_list("mileage,-"), [OrderTerm::NEWEST]);
        assert_eq!(OrderTerm::parse_list(""), [OrderTerm::NEWEST]);
    }

    #[test]
    fn price_filters_allow_zero_but_not_garbage() {
        assert_eq!(parse_price_filter("0"), Some(0));
        assert_eq!(parse_price_filter("0.00"), Some(0));
        assert_eq!(parse_price_filter("5000"), Some(500_000));
        for raw in ["NaN", "abc", "-1", "0.0.0", "1e5"] {
            assert_eq!(parse_price_filter(raw), None, "{raw}");
        }
    }

    #[test]
    fn filters_from_json_are_bounded_like_the_query_string() {
        let filters = CarFilters {
            q: Some("x".repeat(10_000)),
            make: Some("   ".into()),
            page: u32::MAX,
            ..Default::default()
        }
        .bounded();
        assert_eq!(filters.q.unwrap().len(), MAX_SEARCH);
        assert_eq!(filters.make, None);
        assert_eq!(filters.page, MAX_PAGE);
        // PostgreSQL refuses a NUL in text: control characters never reach a query.
        let filters = CarFilters {
            q: Some("tidy\u{0}civic".into()),
            make: Some("a\u{0}b\n".into()),
            ..Default::default()
        }
        .bounded();
        assert_eq!(filters.q.as_deref(), Some("tidy civic"));
        assert_eq!(filters.make.as_deref(), Some("a b"));
    }

    #[test]
    fn page_count_rounds_up() {
        let page = |total| {
            CarPage {
                cars: vec![],
                total,
                page: 1,
                page_size: 24,
                makes: vec![],
            }
            .page_count()
        };
        assert_eq!(page(0), 1);
        assert_eq!(page(24), 1);
        assert_eq!(page(25), 2);
        assert_eq!(page(240), 10);
    }

    #[test]
    fn a_form_kept_for_showing_again_is_cut_to_each_fields_limit() {
        let form = CarForm {
            make: "M".repeat(MAX_TEXT * 50),
            description: "é".repeat(MAX_DESCRIPTION + 10),
            image_url: "https://x/".repeat(MAX_URL),
            year: "2019".into(),
            ..Default::default()
        }
        .truncated();
        assert_eq!(form.make.chars().count(), MAX_TEXT);
        assert_eq!(form.description.chars().count(), MAX_DESCRIPTION);
        assert_eq!(form.image_url.chars().count(), MAX_URL);
        assert_eq!(form.year, "2019", "short fields are kept whole");
    }
}
