//! The sell / edit form and the validation both sides run on it, field by field.

use super::*;

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
    /// The specification: body, fuel, figures, equipment. Its fields are outside the form's
    /// island, so the browser's copy of the form leaves it out.
    #[cfg_attr(feature = "hydrate", serde(skip))]
    pub specs: SpecsForm,
    /// The car's town as typed ("Springfield, Illinois"); checked on the server, which has
    /// the gazetteer (outside the island, like the specification).
    #[cfg_attr(feature = "hydrate", serde(skip))]
    pub town: String,
    /// The town chosen among those the text could mean (a gazetteer id), or the API's
    /// `town_id`.
    #[cfg_attr(feature = "hydrate", serde(skip))]
    pub town_id: String,
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
            specs: SpecsForm::from_specs(&car.specs),
            town: car
                .town
                .as_ref()
                .map(|p| p.label.clone())
                .unwrap_or_default(),
            town_id: String::new(),
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
            "town" => self.town = value,
            "town_id" => self.town_id = value,
            _ => {
                self.specs.set(name, value);
            }
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
            (&mut self.town, MAX_TEXT),
            (&mut self.town_id, 20),
        ] {
            cut(field, max);
        }
        self.specs.truncate();
        self
    }

    /// Validates every field, collecting one message per bad field.
    /// `current_year` bounds the model year (next year's models are allowed).
    /// On the server only: the town is found in the gazetteer.
    #[cfg(feature = "ssr")]
    pub fn validate(&self, current_year: i32) -> Result<CarDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let draft = self.validate_listing(current_year, &mut errors);
        let specs = self.specs.validate(current_year, &mut errors);
        // The API names the town by id (`town_id`), the forms as typed (`town`).
        let key = if self.town.trim().is_empty() && !self.town_id.trim().is_empty() {
            "town_id"
        } else {
            "town"
        };
        let town_id = read_town(&self.town, &self.town_id, key, &mut errors);
        match (draft, specs) {
            (Some(draft), Some(specs)) if errors.is_empty() => Ok(CarDraft {
                specs,
                town_id,
                ..draft
            }),
            _ => Err(errors),
        }
    }

    /// Validates the listing's own fields, without the specification: what the form's
    /// island checks in the browser (the specification's fields are rendered outside it,
    /// and checked on the server). Errors go into `errors`.
    pub fn validate_listing(
        &self,
        current_year: i32,
        errors: &mut FieldErrors,
    ) -> Option<CarDraft> {
        let before = errors.len();
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
            ) if errors.len() == before => Some(CarDraft {
                make,
                model,
                year,
                price_cents,
                mileage_km,
                condition,
                description,
                image_url,
                specs: Specs::default(),
                town_id: None,
            }),
            _ => None,
        }
    }
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

/// A photo's caption: trimmed, at most `MAX_CAPTION` characters on one line.
pub fn parse_caption(raw: &str) -> Result<String, String> {
    let value = raw.trim();
    if value.chars().count() > MAX_CAPTION {
        return Err(format!(
            "A caption must be at most {MAX_CAPTION} characters."
        ));
    }
    if value.chars().any(char::is_control) {
        return Err("A caption is one line of text.".into());
    }
    Ok(value.to_owned())
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
    // What is stored is the address written out in full ("http://a.b" gets its "/", a "'"
    // in the query becomes "%27"): that is what must fit, or the listing could not be saved again.
    if url.href.len() > MAX_URL {
        return Err(format!("Image URL must be at most {MAX_URL} characters."));
    }
    Ok(Some(url.href))
}

/// A parsed absolute URL. Both sides follow the WHATWG URL standard: the server with the
/// `url` crate, the browser with its own `URL` (the crate's Unicode tables would be a
/// large part of the browser bundle).
pub(super) struct WebAddress {
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
