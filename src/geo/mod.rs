//! Places: the market's towns with their coordinates (an embedded gazetteer built from
//! GeoNames, CC BY 4.0: see `make_towns.py`), finding a town by what someone typed, and
//! great-circle distances. Nothing here is fetched at run time.

pub mod rest;

use std::{collections::HashMap, sync::OnceLock};
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// The gazetteer's file: one line per town, most populous first (see `make_towns.py`).
const TOWNS: &str = include_str!("towns-us.tsv");

/// The Earth's mean radius (IUGG), in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// One town of the gazetteer.
#[derive(Clone, Debug, PartialEq)]
pub struct Town {
    /// Its GeoNames id: stable, and what listings and searches store.
    pub id: i64,
    /// Its name; a smaller namesake in the same region also names its nearest larger town
    /// ("Salem (near Jonesboro)"), so that `name` and `region` together are unique.
    pub name: &'static str,
    /// The first-level region (a state, a county): what tells namesakes apart.
    pub region: &'static str,
    pub population: u32,
    pub latitude: f64,
    pub longitude: f64,
}

impl Town {
    /// What people read and type: "Springfield, Illinois".
    pub fn label(&self) -> String {
        if self.region.is_empty() {
            self.name.to_owned()
        } else {
            format!("{}, {}", self.name, self.region)
        }
    }

    /// The great-circle distance to a point, in km.
    pub fn distance_km(&self, latitude: f64, longitude: f64) -> f64 {
        distance_km(self.latitude, self.longitude, latitude, longitude)
    }
}

/// What a typed place name turned out to be.
#[derive(Debug, PartialEq)]
pub enum Found<'g> {
    /// One town answers to it.
    One(&'g Town),
    /// Several could be meant (namesakes, or names that start the same): the person chooses.
    Several(Vec<&'g Town>),
    /// No town answers to it.
    None,
}

impl<'g> Found<'g> {
    /// The town, when exactly one was found.
    pub fn one(self) -> Option<&'g Town> {
        match self {
            Found::One(town) => Some(town),
            Found::Several(_) | Found::None => None,
        }
    }
}

/// The towns, and what finding them by name needs.
pub struct Gazetteer {
    /// Most populous first.
    towns: Vec<Town>,
    by_id: HashMap<i64, usize>,
    /// Each town's name and region as searches compare them (see [`fold`]).
    names: Vec<String>,
    regions: Vec<String>,
}

/// The embedded gazetteer, read once on first use.
pub fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(|| Gazetteer::parse(TOWNS))
}

/// Text as searches compare it: lower case, accents off, runs of spaces and punctuation
/// as one space ("São Paulo" and "sao-paulo" compare equal).
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if gap && !folded.is_empty() {
                folded.push(' ');
            }
            gap = false;
            folded.extend(c.to_lowercase());
        } else if c != '\'' && c != '’' {
            gap = true;
        }
    }
    folded
}

impl Gazetteer {
    /// Reads the gazetteer's lines (`#` lines are comments). A malformed line is a bug in
    /// the embedded file, which a unit test reads whole.
    fn parse(text: &'static str) -> Self {
        let mut towns = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let fields: Vec<&'static str> = line.split('\t').collect();
            let [id, name, region, population, latitude, longitude] = fields[..] else {
                panic!("gazetteer line without six fields: {line}");
            };
            let number = |field: &str| {
                field
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("gazetteer number {field:?} in {line}"))
            };
            towns.push(Town {
                id: id.parse().expect("gazetteer id"),
                name,
                region,
                population: population.parse().expect("gazetteer population"),
                latitude: number(latitude),
                longitude: number(longitude),
            });
        }
        let by_id = towns.iter().enumerate().map(|(at, t)| (t.id, at)).collect();
        let names = towns.iter().map(|t| fold(t.name)).collect();
        let regions = towns.iter().map(|t| fold(t.region)).collect();
        Gazetteer {
            towns,
            by_id,
            names,
            regions,
        }
    }

    pub fn len(&self) -> usize {
        self.towns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.towns.is_empty()
    }

    /// The town with this GeoNames id.
    pub fn town(&self, id: i64) -> Option<&Town> {
        self.by_id.get(&id).map(|&at| &self.towns[at])
    }

    /// The `n` most populous towns.
    pub fn largest(&self, n: usize) -> &[Town] {
        &self.towns[..n.min(self.towns.len())]
    }

    /// Towns for what someone has typed so far ("spring", "Springfield, Ill"), at most
    /// `limit`, most populous first: names that start with it, and names with a later word
    /// that does ("york" finds New York City), which rank as if a tenth as large. After a
    /// comma, the text narrows the region.
    pub fn search(&self, typed: &str, limit: usize) -> Vec<&Town> {
        let (name, region) = match typed.split_once(',') {
            Some((name, region)) => (fold(name), fold(region)),
            None => (fold(typed), String::new()),
        };
        if name.is_empty() || limit == 0 {
            return Vec::new();
        }
        let word_start = format!(" {name}");
        let mut found: Vec<(u32, usize)> = self
            .names
            .iter()
            .enumerate()
            .filter(|&(at, _)| region.is_empty() || self.regions[at].starts_with(&region))
            .filter_map(|(at, folded)| {
                let population = self.towns[at].population;
                if folded.starts_with(&name) {
                    Some((population, at))
                } else if folded.contains(&word_start) {
                    Some((population / 10, at))
                } else {
                    None
                }
            })
            .collect();
        // Most populous first; among equals, the gazetteer's order.
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        found
            .into_iter()
            .take(limit)
            .map(|(_, at)| &self.towns[at])
            .collect()
    }

    /// The town someone meant by `typed`: a full label ("Springfield, Illinois") or a name
    /// only one town has is one town; a name several towns have, or the start of several
    /// names, is a choice among (at most `limit` of) them.
    pub fn find(&self, typed: &str, limit: usize) -> Found<'_> {
        let (name, region) = match typed.split_once(',') {
            Some((name, region)) => (fold(name), fold(region)),
            None => (fold(typed), String::new()),
        };
        let exact: Vec<usize> = (0..self.towns.len())
            .filter(|&at| {
                self.names[at] == name && (region.is_empty() || self.regions[at] == region)
            })
            .collect();
        match exact[..] {
            [only] => return Found::One(&self.towns[only]),
            [] => {}
            _ => {
                return Found::Several(
                    exact
                        .iter()
                        .take(limit)
                        .map(|&at| &self.towns[at])
                        .collect(),
                )
            }
        }
        match &self.search(typed, limit)[..] {
            [] => Found::None,
            [only] => Found::One(only),
            several => Found::Several(several.to_vec()),
        }
    }
}

/// The great-circle distance between two points given in degrees, in km (haversine).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A latitude/longitude rectangle holding every point within some distance of a centre:
/// what an index can narrow a distance search to before the exact distance is worked out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundingBox {
    pub min_latitude: f64,
    pub max_latitude: f64,
    /// `None` when the circle reaches a pole or crosses the 180th meridian: then every
    /// longitude may hold a point within reach.
    pub longitude: Option<(f64, f64)>,
}

impl BoundingBox {
    pub fn around(latitude: f64, longitude: f64, radius_km: f64) -> Self {
        let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
        let (min_latitude, max_latitude) = (latitude - dlat, latitude + dlat);
        let longitude = if min_latitude <= -90.0 || max_latitude >= 90.0 {
            None
        } else {
            // The widest longitude span is at the latitude farthest from the equator.
            let widest = min_latitude
                .abs()
                .max(max_latitude.abs())
                .to_radians()
                .cos();
            let dlon = (radius_km / (EARTH_RADIUS_KM * widest)).to_degrees();
            let (west, east) = (longitude - dlon, longitude + dlon);
            (west >= -180.0 && east <= 180.0).then_some((west, east))
        };
        BoundingBox {
            min_latitude: min_latitude.max(-90.0),
            max_latitude: max_latitude.min(90.0),
            longitude,
        }
    }

    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        (self.min_latitude..=self.max_latitude).contains(&latitude)
            && self
                .longitude
                .is_none_or(|(west, east)| (west..=east).contains(&longitude))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_gazetteer_reads_whole_with_unique_ids_and_labels() {
        let towns = gazetteer();
        assert!(towns.len() > 15_000, "{} towns", towns.len());
        let mut labels = std::collections::HashSet::new();
        for town in &towns.towns {
            assert!(
                labels.insert(town.label()),
                "two towns are {}",
                town.label()
            );
            assert!((18.0..72.0).contains(&town.latitude), "{town:?}");
            assert!(!town.region.is_empty(), "{town:?}");
        }
        assert_eq!(towns.by_id.len(), towns.len());
        assert_eq!(towns.largest(1)[0].name, "New York City");
    }

    #[test]
    fn distances_between_known_cities_are_right_to_a_kilometre() {
        // Known great-circle distances between the city centres (on the mean-radius sphere).
        let cases = [
            // New York City – Los Angeles
            ((40.71427, -74.00597), (34.05223, -118.24368), 3_936.0),
            // London – Paris
            ((51.50853, -0.12574), (48.85341, 2.3488), 344.0),
            // Sydney – Auckland (southern hemisphere)
            ((-33.86785, 151.20732), (-36.84853, 174.76349), 2_156.0),
        ];
        for ((a_lat, a_lon), (b_lat, b_lon), km) in cases {
            let d = distance_km(a_lat, a_lon, b_lat, b_lon);
            assert!((d - km).abs() <= 1.0, "{d} km, expected {km}");
            let back = distance_km(b_lat, b_lon, a_lat, a_lon);
            assert!((d - back).abs() < 1e-9);
            // Another formula (the spherical law of cosines, as the SQL filter uses) agrees.
            let (p1, p2) = (a_lat.to_radians(), b_lat.to_radians());
            let cosines = EARTH_RADIUS_KM
                * (p1.sin() * p2.sin() + p1.cos() * p2.cos() * (b_lon - a_lon).to_radians().cos())
                    .acos();
            assert!((d - cosines).abs() < 0.01, "{d} against {cosines}");
        }
        assert_eq!(distance_km(10.0, 20.0, 10.0, 20.0), 0.0);
    }

    #[test]
    fn a_bounding_box_holds_its_circle() {
        let bbox = BoundingBox::around(40.0, -100.0, 100.0);
        // Points 99.9 km away in every direction are inside; 100 km is about 0.9 degrees.
        for bearing in 0..36 {
            let angle = f64::from(bearing * 10).to_radians();
            let (lat, lon) = destination(40.0, -100.0, angle, 99.9);
            assert!(bbox.contains(lat, lon), "{bearing}: {lat},{lon}");
        }
        assert!(!bbox.contains(41.0, -100.0));
        // Near the antimeridian or a pole, longitude cannot narrow the search.
        assert_eq!(BoundingBox::around(52.0, 179.5, 100.0).longitude, None);
        assert_eq!(BoundingBox::around(89.5, 0.0, 100.0).longitude, None);
    }

    /// The point `km` away from a start along a bearing (on the sphere).
    fn destination(lat: f64, lon: f64, bearing: f64, km: f64) -> (f64, f64) {
        let (phi, lambda, delta) = (lat.to_radians(), lon.to_radians(), km / EARTH_RADIUS_KM);
        let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * bearing.cos()).asin();
        let lambda2 = lambda
            + (bearing.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
        (phi2.to_degrees(), lambda2.to_degrees())
    }

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        assert_eq!(fold("São Paulo"), "sao paulo");
        assert_eq!(fold("  Winston-Salem "), "winston salem");
        assert_eq!(fold("Coeur d’Alene"), "coeur dalene");
        assert_eq!(fold("O'Fallon"), "ofallon");
    }

    #[test]
    fn searching_ranks_names_that_start_with_the_text_by_population() {
        let towns = gazetteer();
        let found = towns.search("spring", 5);
        assert_eq!(found.len(), 5);
        assert!(found.iter().all(|t| fold(t.name).starts_with("spring")));
        assert!(found.windows(2).all(|w| w[0].population >= w[1].population));
        assert_eq!(found[0].label(), "Spring Valley, Nevada");
        assert_eq!(
            towns.search("springf", 1)[0].label(),
            "Springfield, Missouri"
        );
        // A later word of the name counts too, as a smaller town would.
        let york = towns.search("york", 10);
        assert_eq!(york[0].name, "New York City");
        assert!(york.iter().any(|t| t.label() == "York, Pennsylvania"));
        // After a comma, the region narrows it.
        let in_illinois = towns.search("springfield, ill", 5);
        assert_eq!(in_illinois[0].label(), "Springfield, Illinois");
        assert!(towns.search("", 5).is_empty());
        assert!(towns.search("zzzzqq", 5).is_empty());
    }

    #[test]
    fn a_name_several_towns_share_is_a_choice_that_shows_their_regions() {
        let towns = gazetteer();
        let Found::Several(springfields) = towns.find("springfield", 50) else {
            panic!("Springfield is ambiguous");
        };
        assert!(springfields.len() > 5);
        assert!(springfields.iter().all(|t| t.name == "Springfield"));
        let labels: Vec<String> = springfields.iter().map(|t| t.label()).collect();
        assert!(
            labels.contains(&"Springfield, Illinois".to_owned()),
            "{labels:?}"
        );
        assert!(labels.contains(&"Springfield, Massachusetts".to_owned()));
        // The full label, in any case, is one town.
        let Found::One(town) = towns.find("SPRINGFIELD, illinois", 10) else {
            panic!("a full label is one town");
        };
        assert_eq!((town.name, town.region), ("Springfield", "Illinois"));
        assert_eq!(towns.town(town.id), Some(town));
        // A name only one town has.
        assert!(matches!(towns.find("Chicago", 10), Found::One(t) if t.region == "Illinois"));
        assert_eq!(towns.find("Nowhere At All", 10), Found::None);
    }
}
