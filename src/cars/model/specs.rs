//! What a car is beyond make and model: its body, fuel, gearbox, drive and colour, its
//! figures (power, engine, battery, doors, seats, owners, first registration) and its
//! equipment. Every choice comes from a fixed list with a stable snake_case id: the id is
//! what the database stores, the URL and the API carry; the label is what people read.

use super::*;

/// Declares a fixed list of choices: each variant's stable id and its label. The id is the
/// variant's name in snake_case, which is how serde and the OpenAPI document name it too
/// (a unit test holds the two equal).
macro_rules! choices {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $id:literal $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable id.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $id,)+
                }
            }

            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// From its id, whatever the case and surrounding spaces.
            pub fn parse(value: &str) -> Option<Self> {
                let value = value.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|choice| choice.as_str().eq_ignore_ascii_case(value))
            }
        }
    };
}

choices! {
    /// The car's shape.
    BodyType {
        Sedan = "sedan" "Sedan",
        Hatchback = "hatchback" "Hatchback",
        Estate = "estate" "Estate",
        Suv = "suv" "SUV",
        Coupe = "coupe" "Coupé",
        Convertible = "convertible" "Convertible",
        Mpv = "mpv" "MPV",
        Pickup = "pickup" "Pickup",
        Van = "van" "Van",
    }
}

choices! {
    /// What the car runs on.
    Fuel {
        Petrol = "petrol" "Petrol",
        Diesel = "diesel" "Diesel",
        Hybrid = "hybrid" "Hybrid",
        PlugInHybrid = "plug_in_hybrid" "Plug-in hybrid",
        Electric = "electric" "Electric",
        Lpg = "lpg" "LPG",
        Cng = "cng" "CNG",
        Hydrogen = "hydrogen" "Hydrogen",
    }
}

choices! {
    /// The gearbox.
    Transmission {
        Manual = "manual" "Manual",
        Automatic = "automatic" "Automatic",
    }
}

choices! {
    /// Which wheels are driven.
    Drive {
        Front = "front" "Front-wheel drive",
        Rear = "rear" "Rear-wheel drive",
        AllWheel = "all_wheel" "All-wheel drive",
    }
}

choices! {
    /// The exterior colour.
    Colour {
        Black = "black" "Black",
        White = "white" "White",
        Silver = "silver" "Silver",
        Grey = "grey" "Grey",
        Blue = "blue" "Blue",
        Red = "red" "Red",
        Green = "green" "Green",
        Brown = "brown" "Brown",
        Beige = "beige" "Beige",
        Yellow = "yellow" "Yellow",
        Orange = "orange" "Orange",
        Gold = "gold" "Gold",
        Purple = "purple" "Purple",
        Other = "other" "Other",
    }
}

choices! {
    /// An item of the equipment catalogue. A listing's items are stored as one number,
    /// one bit per item at the item's place in this list: add new items at the end only.
    EquipmentItem {
        AirConditioning = "air_conditioning" "Air conditioning",
        ClimateControl = "climate_control" "Climate control",
        Navigation = "navigation" "Navigation system",
        CarplayAndroidAuto = "carplay_android_auto" "Apple CarPlay / Android Auto",
        Bluetooth = "bluetooth" "Bluetooth",
        ParkingSensors = "parking_sensors" "Parking sensors",
        ReversingCamera = "reversing_camera" "Reversing camera",
        CruiseControl = "cruise_control" "Cruise control",
        AdaptiveCruise = "adaptive_cruise" "Adaptive cruise control",
        HeatedSeats = "heated_seats" "Heated seats",
        Leather = "leather" "Leather seats",
        Sunroof = "sunroof" "Sunroof",
        PanoramicRoof = "panoramic_roof" "Panoramic roof",
        TowBar = "tow_bar" "Tow bar",
        AlloyWheels = "alloy_wheels" "Alloy wheels",
        LedHeadlights = "led_headlights" "LED headlights",
        KeylessEntry = "keyless_entry" "Keyless entry",
        LaneAssist = "lane_assist" "Lane keeping assist",
        BlindSpot = "blind_spot" "Blind spot monitor",
        EmergencyBraking = "emergency_braking" "Emergency braking",
        HeadUpDisplay = "head_up_display" "Head-up display",
        HeatedSteeringWheel = "heated_steering_wheel" "Heated steering wheel",
        ElectricSeats = "electric_seats" "Electric seats",
        Isofix = "isofix" "Isofix child seat mounts",
        StartStop = "start_stop" "Start-stop system",
        RainSensor = "rain_sensor" "Rain sensor",
        PowerTailgate = "power_tailgate" "Power tailgate",
        PremiumSound = "premium_sound" "Premium sound system",
        RoofRails = "roof_rails" "Roof rails",
        HeatPump = "heat_pump" "Heat pump",
    }
}

impl Fuel {
    /// Whether the car has a traction battery whose capacity is worth stating.
    pub fn has_battery(self) -> bool {
        matches!(self, Fuel::Electric | Fuel::PlugInHybrid)
    }
}

/// A set of equipment items, one bit each (see [`EquipmentItem`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Equipment(pub u64);

impl Equipment {
    /// The item's bit: its place in the catalogue, which is its declaration order.
    fn bit(item: EquipmentItem) -> u64 {
        1 << (item as u32)
    }

    pub fn has(self, item: EquipmentItem) -> bool {
        self.0 & Self::bit(item) != 0
    }

    pub fn insert(&mut self, item: EquipmentItem) {
        self.0 |= Self::bit(item);
    }

    /// The items, in catalogue order.
    pub fn items(self) -> impl Iterator<Item = EquipmentItem> {
        EquipmentItem::ALL
            .iter()
            .copied()
            .filter(move |item| self.has(*item))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// As the database stores it (every bit fits: the catalogue has fewer than 63 items).
    pub fn to_db(self) -> i64 {
        i64::try_from(self.0).unwrap_or_default()
    }

    /// From the database; bits of no known item are dropped.
    pub fn from_db(stored: i64) -> Self {
        let known = (1u64 << EquipmentItem::ALL.len()) - 1;
        Equipment(u64::try_from(stored).unwrap_or_default() & known)
    }
}

impl FromIterator<EquipmentItem> for Equipment {
    fn from_iter<I: IntoIterator<Item = EquipmentItem>>(items: I) -> Self {
        let mut set = Equipment::default();
        for item in items {
            set.insert(item);
        }
        set
    }
}

/// A month of a year: when a car was first registered. Written "2019-04".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    /// From "2019-04" (the `<input type="month">` form) or "04/2019".
    pub fn parse(raw: &str) -> Option<Self> {
        let value = raw.trim();
        let (year, month) = match value.split_once('-') {
            Some((year, month)) => (year, month),
            None => {
                let (month, year) = value.split_once('/')?;
                (year, month)
            }
        };
        let (year, month) = (year.trim(), month.trim());
        if year.len() != 4 || !(1..=2).contains(&month.len()) {
            return None;
        }
        let year: i32 = year.parse().ok()?;
        let month: u32 = month.parse().ok()?;
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// "April 2019".
    pub fn label(self) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let name = MONTHS[(self.month.clamp(1, 12) - 1) as usize];
        format!("{name} {}", self.year)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        YearMonth::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("a month written as YYYY-MM"))
    }
}

/// The bounds of the figures a seller enters.
pub const MAX_POWER_KW: i32 = 2_000;
pub const MIN_ENGINE_CC: i32 = 50;
pub const MAX_ENGINE_CC: i32 = 10_000;
/// Battery capacity, in watt-hours (300 kWh).
pub const MAX_BATTERY_WH: i32 = 300_000;
pub const MAX_DOORS: i32 = 7;
pub const MAX_SEATS: i32 = 20;
pub const MAX_OWNERS: i32 = 99;

/// Horsepower (metric) for a power in kW, as buyers also read it: "110 kW (150 hp)".
pub fn horsepower(kw: i32) -> i32 {
    (f64::from(kw) * 1.359_62).round() as i32
}

/// "110 kW (150 hp)".
pub fn format_power(kw: i32) -> String {
    format!("{kw} kW ({} hp)", horsepower(kw))
}

/// "77.4 kWh" or "58 kWh".
pub fn format_battery(wh: i32) -> String {
    let tenths = (wh + 50) / 100;
    match tenths % 10 {
        0 => format!("{} kWh", tenths / 10),
        rest => format!("{}.{rest} kWh", tenths / 10),
    }
}

/// The battery as the form shows it: "77.4" or "58".
pub fn format_battery_input(wh: i32) -> String {
    format_battery(wh).trim_end_matches(" kWh").to_owned()
}

/// A listing's specification. Every part is optional: listings from before it existed,
/// and sellers who leave a part out, show what they have.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specs {
    pub body_type: Option<BodyType>,
    pub fuel: Option<Fuel>,
    pub transmission: Option<Transmission>,
    pub drive: Option<Drive>,
    pub colour: Option<Colour>,
    pub power_kw: Option<i32>,
    pub engine_cc: Option<i32>,
    pub battery_wh: Option<i32>,
    pub doors: Option<i32>,
    pub seats: Option<i32>,
    pub previous_owners: Option<i32>,
    pub first_registration: Option<YearMonth>,
    pub equipment: Equipment,
}

impl Specs {
    /// The rows of a specification table, label and value, for the parts that are known.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let mut rows = Vec::new();
        let mut put = |label: &'static str, value: Option<String>| {
            if let Some(value) = value {
                rows.push((label, value));
            }
        };
        put("Body type", self.body_type.map(|c| c.label().to_owned()));
        put("Fuel", self.fuel.map(|c| c.label().to_owned()));
        put("Gearbox", self.transmission.map(|c| c.label().to_owned()));
        put("Drive", self.drive.map(|c| c.label().to_owned()));
        put("Colour", self.colour.map(|c| c.label().to_owned()));
        put("Power", self.power_kw.map(format_power));
        put(
            "Engine size",
            self.engine_cc
                .map(|cc| format!("{} cc", group_thousands(i64::from(cc)))),
        );
        put("Battery capacity", self.battery_wh.map(format_battery));
        put("Doors", self.doors.map(|n| n.to_string()));
        put("Seats", self.seats.map(|n| n.to_string()));
        put(
            "Previous owners",
            self.previous_owners.map(|n| n.to_string()),
        );
        put(
            "First registration",
            self.first_registration.map(YearMonth::label),
        );
        rows
    }
}

/// A whole number within `min..=max`, or nothing when left empty.
fn parse_count(raw: &str, min: i32, max: i32, what: &str) -> Result<Option<i32>, String> {
    let value: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "Enter {what} as a whole number from {} to {}.",
            group_thousands(i64::from(min)),
            group_thousands(i64::from(max))
        )
    };
    if value.len() > 9 || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<i32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(bad()),
    }
}

/// A battery capacity in kWh ("77.4", "58", "13,8") to watt-hours, rounded to a tenth of
/// a kWh; from 1 to 300 kWh.
fn parse_battery(raw: &str) -> Result<Option<i32>, String> {
    let value = raw.trim().trim_end_matches("kWh").trim().replace(',', ".");
    if value.is_empty() {
        return Ok(None);
    }
    let bad =
        || "Enter the battery capacity in kWh, from 1 to 300, for example 58 or 77.4.".to_owned();
    let (whole, fraction) = value.split_once('.').unwrap_or((&value, ""));
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 20
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let digit = |at: usize| {
        fraction
            .as_bytes()
            .get(at)
            .map_or(0, |d| i32::from(d - b'0'))
    };
    let tenths =
        whole.parse::<i32>().map_err(|_| bad())? * 10 + digit(0) + i32::from(digit(1) >= 5);
    let wh = tenths * 100;
    if !(1_000..=MAX_BATTERY_WH).contains(&wh) {
        return Err(bad());
    }
    Ok(Some(wh))
}

/// One of a fixed list, or nothing when left empty.
fn parse_choice<T: Copy>(
    raw: &str,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse(raw)
        .map(Some)
        .ok_or_else(|| format!("Choose {what} from the list."))
}

/// The specification part of the sell / edit form, as typed (each field by its form name).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecsForm {
    pub body_type: String,
    pub fuel: String,
    pub transmission: String,
    pub drive: String,
    pub colour: String,
    pub power_kw: String,
    pub engine_cc: String,
    pub battery_kwh: String,
    pub doors: String,
    pub seats: String,
    pub previous_owners: String,
    pub first_registration: String,
    /// Equipment items' ids, one per ticked box.
    pub equipment: Vec<String>,
}

impl SpecsForm {
    /// Every field name, as forms and the API send them.
    pub const FIELDS: [&'static str; 13] = [
        "body_type",
        "fuel",
        "transmission",
        "drive",
        "colour",
        "power_kw",
        "engine_cc",
        "battery_kwh",
        "doors",
        "seats",
        "previous_owners",
        "first_registration",
        "equipment",
    ];

    pub fn from_specs(specs: &Specs) -> Self {
        fn id<T>(choice: Option<T>, as_str: fn(T) -> &'static str) -> String {
            choice.map(as_str).unwrap_or_default().to_owned()
        }
        fn number(n: Option<i32>) -> String {
            n.map(|n| n.to_string()).unwrap_or_default()
        }
        SpecsForm {
            body_type: id(specs.body_type, BodyType::as_str),
            fuel: id(specs.fuel, Fuel::as_str),
            transmission: id(specs.transmission, Transmission::as_str),
            drive: id(specs.drive, Drive::as_str),
            colour: id(specs.colour, Colour::as_str),
            power_kw: number(specs.power_kw),
            engine_cc: number(specs.engine_cc),
            battery_kwh: specs
                .battery_wh
                .map(format_battery_input)
                .unwrap_or_default(),
            doors: number(specs.doors),
            seats: number(specs.seats),
            previous_owners: number(specs.previous_owners),
            first_registration: specs
                .first_registration
                .map(|month| month.to_string())
                .unwrap_or_default(),
            equipment: specs
                .equipment
                .items()
                .map(|item| item.as_str().to_owned())
                .collect(),
        }
    }

    /// Sets one field by its form name (equipment adds an item); false for other names.
    pub fn set(&mut self, name: &str, value: String) -> bool {
        let field = match name {
            "body_type" => &mut self.body_type,
            "fuel" => &mut self.fuel,
            "transmission" => &mut self.transmission,
            "drive" => &mut self.drive,
            "colour" => &mut self.colour,
            "power_kw" => &mut self.power_kw,
            "engine_cc" => &mut self.engine_cc,
            "battery_kwh" => &mut self.battery_kwh,
            "doors" => &mut self.doors,
            "seats" => &mut self.seats,
            "previous_owners" => &mut self.previous_owners,
            "first_registration" => &mut self.first_registration,
            "equipment" => {
                // At most one per catalogue item: a form cannot make the list grow past it.
                if self.equipment.len() < EquipmentItem::ALL.len()
                    && !self.equipment.contains(&value)
                {
                    self.equipment.push(value);
                }
                return true;
            }
            _ => return false,
        };
        *field = value;
        true
    }

    /// Each field cut to a length worth keeping (a rejected form waits in the session).
    pub fn truncate(&mut self) {
        for field in [
            &mut self.body_type,
            &mut self.fuel,
            &mut self.transmission,
            &mut self.drive,
            &mut self.colour,
            &mut self.power_kw,
            &mut self.engine_cc,
            &mut self.battery_kwh,
            &mut self.doors,
            &mut self.seats,
            &mut self.previous_owners,
            &mut self.first_registration,
        ] {
            if let Some((at, _)) = field.char_indices().nth(20) {
                field.truncate(at);
            }
        }
        self.equipment.retain(|id| id.len() <= 40);
    }

    /// Validates the specification (a first registration is at the latest in `current_year`).
    /// Errors go into `errors` under each field's name.
    pub fn validate(&self, current_year: i32, errors: &mut FieldErrors) -> Option<Specs> {
        let before = errors.len();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.insert(field.to_owned(), message);
            }
        };
        macro_rules! field {
            ($name:literal, $result:expr) => {{
                let result = $result;
                check($name, result.as_ref().map(|_| ()).map_err(Clone::clone));
                result.ok().flatten()
            }};
        }
        let body_type = field!(
            "body_type",
            parse_choice(&self.body_type, BodyType::parse, "a body type")
        );
        let fuel = field!("fuel", parse_choice(&self.fuel, Fuel::parse, "a fuel"));
        let transmission = field!(
            "transmission",
            parse_choice(
                &self.transmission,
                Transmission::parse,
                "manual or automatic"
            )
        );
        let drive = field!(
            "drive",
            parse_choice(&self.drive, Drive::parse, "the driven wheels")
        );
        let colour = field!(
            "colour",
            parse_choice(&self.colour, Colour::parse, "a colour")
        );
        let power_kw = field!(
            "power_kw",
            parse_count(&self.power_kw, 1, MAX_POWER_KW, "the power in kW")
        );
        let engine_cc = field!(
            "engine_cc",
            parse_count(
                &self.engine_cc,
                MIN_ENGINE_CC,
                MAX_ENGINE_CC,
                "the engine size in cc"
            )
            .and_then(|cc| match (cc, fuel) {
                (Some(_), Some(Fuel::Electric)) => {
                    Err("An electric car has no engine size: leave it empty.".to_owned())
                }
                _ => Ok(cc),
            })
        );
        let battery_wh = field!(
            "battery_kwh",
            parse_battery(&self.battery_kwh).and_then(|wh| match (wh, fuel) {
                (Some(_), fuel) if !fuel.is_some_and(Fuel::has_battery) => Err(
                    "Battery capacity is for electric and plug-in hybrid cars: choose one of \
                     those fuels, or leave it empty."
                        .to_owned()
                ),
                _ => Ok(wh),
            })
        );
        let doors = field!("doors", parse_count(&self.doors, 1, MAX_DOORS, "the doors"));
        let seats = field!("seats", parse_count(&self.seats, 1, MAX_SEATS, "the seats"));
        let previous_owners = field!(
            "previous_owners",
            parse_count(&self.previous_owners, 0, MAX_OWNERS, "the previous owners")
        );
        let first_registration = field!(
            "first_registration",
            parse_first_registration(&self.first_registration, current_year)
        );
        let mut equipment = Equipment::default();
        let mut unknown = Vec::new();
        for id in &self.equipment {
            match EquipmentItem::parse(id) {
                Some(item) => equipment.insert(item),
                None => unknown.push(id.as_str()),
            }
        }
        if !unknown.is_empty() {
            check(
                "equipment",
                Err(format!(
                    "Not in the equipment list: {}. Choose items from the list.",
                    unknown.join(", ")
                )),
            );
        }
        (errors.len() == before).then_some(Specs {
            body_type,
            fuel,
            transmission,
            drive,
            colour,
            power_kw,
            engine_cc,
            battery_wh,
            doors,
            seats,
            previous_owners,
            first_registration,
            equipment,
        })
    }
}

fn parse_first_registration(raw: &str, current_year: i32) -> Result<Option<YearMonth>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let month = YearMonth::parse(raw).ok_or_else(|| {
        "Enter the month of first registration as year and month, for example 2019-04.".to_owned()
    })?;
    if !(MIN_YEAR..=current_year).contains(&month.year) {
        return Err(format!(
            "Enter a first registration from {MIN_YEAR} to {current_year}."
        ));
    }
    Ok(Some(month))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<
        T: Copy + PartialEq + std::fmt::Debug + Serialize + for<'de> Deserialize<'de>,
    >(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
    ) {
        let mut ids = std::collections::HashSet::new();
        for choice in all.iter().copied() {
            let id = as_str(choice);
            assert!(ids.insert(id), "{id} twice");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id} is not snake_case"
            );
            assert_eq!(parse(id), Some(choice));
            assert_eq!(parse(&format!(" {} ", id.to_uppercase())), Some(choice));
            let json = serde_json::to_string(&choice).unwrap();
            assert_eq!(json, format!("\"{id}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), choice);
        }
        assert_eq!(parse("no-such-thing"), None);
    }

    #[test]
    fn every_enumeration_round_trips_through_its_id() {
        round_trips(BodyType::ALL, BodyType::as_str, BodyType::parse);
        round_trips(Fuel::ALL, Fuel::as_str, Fuel::parse);
        round_trips(Transmission::ALL, Transmission::as_str, Transmission::parse);
        round_trips(Drive::ALL, Drive::as_str, Drive::parse);
        round_trips(Colour::ALL, Colour::as_str, Colour::parse);
        round_trips(
            EquipmentItem::ALL,
            EquipmentItem::as_str,
            EquipmentItem::parse,
        );
        assert_eq!(BodyType::parse("suv").unwrap().label(), "SUV");
        assert_eq!(Fuel::PlugInHybrid.as_str(), "plug_in_hybrid");
    }

    /// The OpenAPI document lists each enumeration by the same ids the API sends.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_documented_ids_are_the_ids_sent() {
        use utoipa::PartialSchema;
        fn documented<T: PartialSchema>() -> serde_json::Value {
            serde_json::to_value(T::schema()).unwrap()["enum"].clone()
        }
        fn ids<T: Copy>(all: &[T], id: fn(T) -> &'static str) -> serde_json::Value {
            all.iter().map(|c| id(*c)).collect()
        }
        assert_eq!(
            documented::<BodyType>(),
            ids(BodyType::ALL, BodyType::as_str)
        );
        assert_eq!(documented::<Fuel>(), ids(Fuel::ALL, Fuel::as_str));
        assert_eq!(
            documented::<Transmission>(),
            ids(Transmission::ALL, Transmission::as_str)
        );
        assert_eq!(documented::<Drive>(), ids(Drive::ALL, Drive::as_str));
        assert_eq!(documented::<Colour>(), ids(Colour::ALL, Colour::as_str));
        assert_eq!(
            documented::<EquipmentItem>(),
            ids(EquipmentItem::ALL, EquipmentItem::as_str)
        );
    }

    #[test]
    fn equipment_is_stored_as_one_number_and_read_back() {
        assert!(EquipmentItem::ALL.len() < 63);
        for (place, item) in EquipmentItem::ALL.iter().enumerate() {
            assert_eq!(Equipment::bit(*item), 1 << place, "{item:?}");
        }
        let set: Equipment = [EquipmentItem::TowBar, EquipmentItem::AirConditioning]
            .into_iter()
            .collect();
        assert_eq!(
            set.items().collect::<Vec<_>>(),
            [EquipmentItem::AirConditioning, EquipmentItem::TowBar],
            "catalogue order"
        );
        assert_eq!(Equipment::from_db(set.to_db()), set);
        // The first item is bit 0: the stored numbers never change meaning.
        assert_eq!(
            Equipment::from_db(1).items().next(),
            Some(EquipmentItem::AirConditioning)
        );
        assert!(
            Equipment::from_db(1 << 62).is_empty(),
            "unknown bits are dropped"
        );
    }

    #[test]
    fn months_read_both_ways_and_print_as_yyyy_mm() {
        let april = YearMonth {
            year: 2019,
            month: 4,
        };
        assert_eq!(YearMonth::parse("2019-04"), Some(april));
        assert_eq!(YearMonth::parse("4/2019"), Some(april));
        assert_eq!(april.to_string(), "2019-04");
        assert_eq!(april.label(), "April 2019");
        for bad in [
            "2019-13",
            "2019-00",
            "19-04",
            "2019",
            "April 2019",
            "2019-4-1",
        ] {
            assert_eq!(YearMonth::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(horsepower(110), 150);
        assert_eq!(format_power(110), "110 kW (150 hp)");
        assert_eq!(parse_battery("77.4"), Ok(Some(77_400)));
        assert_eq!(parse_battery("13,8 kWh"), Ok(Some(13_800)));
        assert_eq!(parse_battery(""), Ok(None));
        // Rounded to a tenth of a kWh, as capacities are stated.
        assert_eq!(parse_battery("77.45"), Ok(Some(77_500)));
        assert_eq!(parse_battery("299.96"), Ok(Some(300_000)));
        assert_eq!(parse_battery("1"), Ok(Some(1_000)));
        for bad in ["0", "0.9", "300.05", "301", "-5", "lots", ".5", "1e2"] {
            assert!(parse_battery(bad).is_err(), "{bad}");
        }
        assert_eq!(format_battery(77_400), "77.4 kWh");
        assert_eq!(format_battery(58_000), "58 kWh");
        assert_eq!(format_battery_input(13_800), "13.8");
    }

    fn form(pairs: &[(&str, &str)]) -> SpecsForm {
        let mut form = SpecsForm::default();
        for (name, value) in pairs {
            assert!(form.set(name, (*value).to_owned()), "{name}");
        }
        form
    }

    #[test]
    fn a_full_specification_validates_and_fills_the_form_again() {
        let typed = form(&[
            ("body_type", "suv"),
            ("fuel", "plug_in_hybrid"),
            ("transmission", "automatic"),
            ("drive", "all_wheel"),
            ("colour", "grey"),
            ("power_kw", "225"),
            ("engine_cc", "1,998"),
            ("battery_kwh", "18.7"),
            ("doors", "5"),
            ("seats", "7"),
            ("previous_owners", "1"),
            ("first_registration", "2021-03"),
            ("equipment", "tow_bar"),
            ("equipment", "heated_seats"),
        ]);
        let mut errors = FieldErrors::new();
        let specs = typed.validate(2026, &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(specs.body_type, Some(BodyType::Suv));
        assert_eq!(specs.engine_cc, Some(1998));
        assert_eq!(specs.battery_wh, Some(18_700));
        assert!(specs.equipment.has(EquipmentItem::TowBar));
        let again = SpecsForm::from_specs(&specs);
        assert_eq!(again.engine_cc, "1998");
        assert_eq!(again.validate(2026, &mut errors), Some(specs));
        // An empty form is a valid, empty specification.
        assert_eq!(
            SpecsForm::default().validate(2026, &mut errors),
            Some(Specs::default())
        );
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let typed = form(&[
            ("body_type", "spaceship"),
            ("fuel", "electric"),
            ("engine_cc", "1600"),
            ("power_kw", "0"),
            ("doors", "12"),
            ("previous_owners", "-1"),
            ("first_registration", "1885-05"),
            ("equipment", "jet_pack"),
        ]);
        let mut errors = FieldErrors::new();
        assert_eq!(typed.validate(2026, &mut errors), None);
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "body_type",
                "doors",
                "engine_cc",
                "equipment",
                "first_registration",
                "power_kw",
                "previous_owners"
            ]
        );
        assert!(errors["engine_cc"].contains("electric car has no engine"));
        assert!(errors["equipment"].contains("jet_pack"));
        // A battery on a petrol car is refused; on an electric one it is its capacity.
        let mut errors = FieldErrors::new();
        let petrol = form(&[("fuel", "petrol"), ("battery_kwh", "50")]);
        assert_eq!(petrol.validate(2026, &mut errors), None);
        assert!(errors.contains_key("battery_kwh"));
        // Registered in the future, or long before the model year: refused.
        let mut errors = FieldErrors::new();
        let future = form(&[("first_registration", "2027-01")]);
        assert_eq!(future.validate(2026, &mut errors), None);
        assert!(errors["first_registration"].contains("2026"));
    }
}
