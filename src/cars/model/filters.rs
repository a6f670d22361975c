//! What buyers ask the marketplace for: filters, order and pages.

use super::*;

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
    /// Nearest first, when a "near" town is set (newest first otherwise).
    Nearest,
    MostPowerful,
}

impl Sort {
    pub const ALL: [Sort; 9] = [
        Sort::BestMatch,
        Sort::Newest,
        Sort::Oldest,
        Sort::PriceAsc,
        Sort::PriceDesc,
        Sort::YearDesc,
        Sort::YearAsc,
        Sort::Nearest,
        Sort::MostPowerful,
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
            Sort::Nearest => "nearest",
            Sort::MostPowerful => "power_desc",
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
            Sort::Nearest => "Distance: nearest first",
            Sort::MostPowerful => "Power: most powerful first",
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
            Sort::Nearest => (OrderField::Distance, false),
            Sort::MostPowerful => (OrderField::Power, true),
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
    /// Distance from the "near" town (without one, newest first).
    Distance,
    /// Power in kW; cars whose power is unknown come last either way.
    Power,
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
                "distance" => OrderField::Distance,
                "power_kw" => OrderField::Power,
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
    #[serde(default)]
    pub min_mileage_km: Option<i64>,
    pub max_mileage_km: Option<i64>,
    /// The specification's filters: body, fuel, gearbox, drive, colour, power, equipment.
    #[serde(default)]
    pub specs: SpecFilters,
    /// "Near <town> within N km".
    #[serde(default)]
    pub near: Option<Near>,
    pub sort: Sort,
    pub page: u32,
}

/// Filters on the specification. A list keeps cars with any of its choices (SUV or
/// estate); the equipment keeps cars with all of its items.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecFilters {
    pub body_types: Vec<BodyType>,
    pub fuels: Vec<Fuel>,
    pub transmissions: Vec<Transmission>,
    pub drives: Vec<Drive>,
    pub colours: Vec<Colour>,
    pub min_power_kw: Option<i32>,
    pub max_power_kw: Option<i32>,
    pub equipment: Equipment,
}

impl SpecFilters {
    /// Query-string names of the list filters, each sent once per choice.
    pub const LISTS: [&'static str; 6] = [
        "body_type",
        "fuel",
        "transmission",
        "drive",
        "colour",
        "equipment",
    ];

    fn read(
        get_all: &impl Fn(&str) -> Vec<String>,
        get: &impl Fn(&str) -> Option<String>,
        problems: &mut FieldErrors,
    ) -> Self {
        fn list<T: Copy + Ord>(
            values: Vec<String>,
            parse: fn(&str) -> Option<T>,
            what: &str,
            key: &str,
            problems: &mut FieldErrors,
        ) -> Vec<T> {
            let mut unknown = Vec::new();
            let mut chosen: Vec<T> = values
                .iter()
                .filter(|value| !value.trim().is_empty())
                .filter_map(|value| {
                    let choice = parse(value);
                    if choice.is_none() {
                        unknown.push(value.trim().chars().take(40).collect::<String>());
                    }
                    choice
                })
                .collect();
            if !unknown.is_empty() {
                problems.insert(
                    key.to_owned(),
                    format!("Unknown {what}: {}.", unknown.join(", ")),
                );
            }
            chosen.sort_unstable();
            chosen.dedup();
            chosen
        }
        let mut power =
            |key: &str, label: &str| {
                get(key)
                    .filter(|raw| !raw.trim().is_empty())
                    .and_then(|raw| match raw.trim().parse::<i32>() {
                        Ok(kw) if (0..=MAX_POWER_KW).contains(&kw) => Some(kw),
                        _ => {
                            problems.insert(
                        key.to_owned(),
                        format!("{label} must be a whole number of kW, from 0 to {MAX_POWER_KW}."),
                    );
                            None
                        }
                    })
            };
        let min_power_kw = power("min_power_kw", "Min power");
        let max_power_kw = power("max_power_kw", "Max power");
        let items = list(
            get_all("equipment"),
            EquipmentItem::parse,
            "equipment",
            "equipment",
            problems,
        );
        SpecFilters {
            body_types: list(
                get_all("body_type"),
                BodyType::parse,
                "body type",
                "body_type",
                problems,
            ),
            fuels: list(get_all("fuel"), Fuel::parse, "fuel", "fuel", problems),
            transmissions: list(
                get_all("transmission"),
                Transmission::parse,
                "gearbox",
                "transmission",
                problems,
            ),
            drives: list(get_all("drive"), Drive::parse, "drive", "drive", problems),
            colours: list(
                get_all("colour"),
                Colour::parse,
                "colour",
                "colour",
                problems,
            ),
            min_power_kw,
            max_power_kw,
            equipment: items.into_iter().collect(),
        }
    }

    fn push_pairs(&self, pairs: &mut Vec<(&'static str, String)>) {
        let ids = |pairs: &mut Vec<(&'static str, String)>, key, ids: Vec<&str>| {
            pairs.extend(ids.into_iter().map(|id| (key, id.to_owned())));
        };
        ids(
            pairs,
            "body_type",
            self.body_types.iter().map(|c| c.as_str()).collect(),
        );
        ids(
            pairs,
            "fuel",
            self.fuels.iter().map(|c| c.as_str()).collect(),
        );
        ids(
            pairs,
            "transmission",
            self.transmissions.iter().map(|c| c.as_str()).collect(),
        );
        ids(
            pairs,
            "drive",
            self.drives.iter().map(|c| c.as_str()).collect(),
        );
        ids(
            pairs,
            "colour",
            self.colours.iter().map(|c| c.as_str()).collect(),
        );
        if let Some(kw) = self.min_power_kw {
            pairs.push(("min_power_kw", kw.to_string()));
        }
        if let Some(kw) = self.max_power_kw {
            pairs.push(("max_power_kw", kw.to_string()));
        }
        ids(
            pairs,
            "equipment",
            self.equipment.items().map(|c| c.as_str()).collect(),
        );
    }

    /// Each list sorted and without repeats, and bits of no known item dropped: filters
    /// that arrive as JSON become the ones the query string would give.
    fn bounded(mut self) -> Self {
        fn tidy<T: Ord>(list: &mut Vec<T>) {
            list.sort_unstable();
            list.dedup();
        }
        tidy(&mut self.body_types);
        tidy(&mut self.fuels);
        tidy(&mut self.transmissions);
        tidy(&mut self.drives);
        tidy(&mut self.colours);
        self.min_power_kw = self.min_power_kw.map(|kw| kw.clamp(0, MAX_POWER_KW));
        self.max_power_kw = self.max_power_kw.map(|kw| kw.clamp(0, MAX_POWER_KW));
        self.equipment = Equipment::from_db(self.equipment.to_db());
        self
    }

    pub fn is_filtered(&self) -> bool {
        *self != SpecFilters::default()
    }
}

/// Query-string names of the filters, as the form and the URL use them.
pub const FILTER_KEYS: [&str; 10] = [
    "q",
    "min_price",
    "max_price",
    "min_year",
    "max_year",
    "make",
    "condition",
    "min_mileage",
    "max_mileage",
    "sort",
];

impl CarFilters {
    /// Reads filters from query parameters (`get` looks one up by name). A value
    /// that cannot be used is left out and reported under its parameter name, so
    /// the page can show the rest and the API can answer 400 naming the field.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> (Self, FieldErrors) {
        Self::from_query_all(|key| get(key).into_iter().collect())
    }

    /// As [`from_query`](Self::from_query), with every value of each parameter
    /// (`get_all`): the list filters repeat their name (`fuel=diesel&fuel=electric`).
    pub fn from_query_all(get_all: impl Fn(&str) -> Vec<String>) -> (Self, FieldErrors) {
        let get = |key: &str| get_all(key).pop();
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
        // A bound that cannot be read is left out and named, with what it should be.
        let mut bound = |key: &str, parse: &dyn Fn(&str) -> Option<i64>, should_be: String| {
            let raw = text(key)?;
            let value = parse(&raw);
            if value.is_none() {
                problems.insert(key.to_owned(), should_be);
            }
            value
        };
        let year = |raw: &str| raw.parse::<i64>().ok().filter(|y| (0..=9999).contains(y));
        let mileage = |raw: &str| parse_mileage(raw).ok();
        let dollars = |label: &str| format!("{label} must be an amount in dollars, like 20000.");
        let a_year = |label: &str| format!("{label} must be a year, like 2018.");
        let km = |label: &str| format!("{label} must be a whole number of kilometres.");
        filters.min_price_cents = bound("min_price", &parse_price_filter, dollars("Min price"));
        filters.max_price_cents = bound("max_price", &parse_price_filter, dollars("Max price"));
        // Within 0..=9999: the conversion cannot fail.
        filters.min_year =
            bound("min_year", &year, a_year("Min year")).and_then(|y| y.try_into().ok());
        filters.max_year =
            bound("max_year", &year, a_year("Max year")).and_then(|y| y.try_into().ok());
        filters.min_mileage_km = bound("min_mileage", &mileage, km("Min mileage"));
        filters.max_mileage_km = bound("max_mileage", &mileage, km("Max mileage"));
        filters.make = text("make");
        filters.condition = text("condition").and_then(|c| {
            let condition = Condition::parse(&c);
            if condition.is_none() {
                problems.insert("condition".into(), "Condition must be new or used.".into());
            }
            condition
        });
        filters.specs = SpecFilters::read(&get_all, &get, &mut problems);
        #[cfg(feature = "ssr")]
        {
            filters.near = read_near(&get, &mut problems);
        }
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
        if let Some(v) = self.min_mileage_km {
            pairs.push(("min_mileage", v.to_string()));
        }
        if let Some(v) = self.max_mileage_km {
            pairs.push(("max_mileage", v.to_string()));
        }
        self.specs.push_pairs(&mut pairs);
        if let Some(near) = self.near {
            pairs.push(("near", near.town_id.to_string()));
            pairs.push(("radius_km", near.radius_km.to_string()));
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
        self.specs = self.specs.bounded();
        self.near = self.near.filter(|near| RADII_KM.contains(&near.radius_km));
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
            || self.min_mileage_km.is_some()
            || self.max_mileage_km.is_some()
            || self.specs.is_filtered()
            || self.near.is_some()
    }
}

/// How many cars each choice of the list filters would leave: for a list where any choice
/// will do (body type, fuel, …), the cars matching every other filter with that choice; for
/// the equipment (all of it), the cars matching every filter that also have that item.
/// Every choice is there, in its list's order, with 0 where no car would be left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    pub body_types: Vec<(BodyType, i64)>,
    pub fuels: Vec<(Fuel, i64)>,
    pub transmissions: Vec<(Transmission, i64)>,
    pub drives: Vec<(Drive, i64)>,
    pub colours: Vec<(Colour, i64)>,
    pub equipment: Vec<(EquipmentItem, i64)>,
}

/// The count beside `choice` (0 when the counts do not list it).
pub fn facet_count<T: PartialEq>(counts: &[(T, i64)], choice: T) -> i64 {
    counts
        .iter()
        .find(|(c, _)| *c == choice)
        .map_or(0, |(_, n)| *n)
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
    /// The counts beside the list filters' choices.
    pub facets: Facets,
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
