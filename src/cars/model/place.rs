//! Where a listing's car is (a town of the gazetteer), and "near <town> within N km".
//! Finding a town by name needs the gazetteer, which only the server has: forms and
//! filters name a town as typed, and the server works out which one was meant.

use super::*;

/// The distances a buyer can search within, in km.
pub const RADII_KM: [u32; 6] = [10, 25, 50, 100, 200, 500];
/// The distance a "near" search uses when none is chosen.
pub const DEFAULT_RADIUS_KM: u32 = 50;
/// The most towns offered when a name could mean several.
pub const TOWN_CHOICES: usize = 8;

/// A listing's town, as pages and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The town's GeoNames id.
    pub town_id: i64,
    /// "Springfield, Illinois".
    pub label: String,
}

/// "Near <town> within N km".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Near {
    pub town_id: i64,
    pub radius_km: u32,
}

/// How far away a car is, for its card: "34 km away".
pub fn format_distance(km: f64) -> String {
    if km < 1.0 {
        "Less than 1 km away".to_owned()
    } else {
        format!("{} km away", group_thousands(km.round() as i64))
    }
}

#[cfg(feature = "ssr")]
pub use server::*;

/// The browser has no gazetteer: the pages that name towns are rendered on the server,
/// and these stand-ins let their components build for the browser too.
#[cfg(not(feature = "ssr"))]
mod browser {
    use super::Place;

    impl Place {
        pub fn of(_town_id: i64) -> Option<Place> {
            None
        }
    }

    pub fn town_choices(_typed: &str) -> Vec<Place> {
        Vec::new()
    }
}
#[cfg(not(feature = "ssr"))]
pub use browser::*;

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::geo::{gazetteer, Found, Town};

    impl Place {
        /// The town with this id, if the gazetteer has it.
        pub fn of(town_id: i64) -> Option<Place> {
            gazetteer().town(town_id).map(Place::from)
        }
    }

    impl From<&Town> for Place {
        fn from(town: &Town) -> Self {
            Place {
                town_id: town.id,
                label: town.label(),
            }
        }
    }

    /// The great-circle distance between two towns of the gazetteer, in km.
    pub fn distance_between(a: i64, b: i64) -> Option<f64> {
        let towns = gazetteer();
        let (a, b) = (towns.town(a)?, towns.town(b)?);
        Some(a.distance_km(b.latitude, b.longitude))
    }

    /// The towns `typed` could mean, for a person to choose from (none when it names
    /// exactly one, or nothing).
    pub fn town_choices(typed: &str) -> Vec<Place> {
        match gazetteer().find(typed, TOWN_CHOICES) {
            Found::Several(towns) => towns.into_iter().map(Place::from).collect(),
            Found::One(_) | Found::None => Vec::new(),
        }
    }

    /// A town given by id (a choice, or the API's `town_id`) or as typed (`typed`); when
    /// both come, the id counts only if it is one of the towns the text can mean, so a
    /// seller who chose a Springfield and then typed another town gets the one typed.
    /// `None` when neither is given; a problem goes into `errors` under `key`.
    pub fn read_town(typed: &str, id: &str, key: &str, errors: &mut FieldErrors) -> Option<i64> {
        let (typed, id) = (typed.trim(), id.trim());
        let towns = gazetteer();
        if !id.is_empty() {
            let Some(town) = id.parse::<i64>().ok().and_then(|id| towns.town(id)) else {
                errors.insert(
                    key.to_owned(),
                    "That town is not in our list of towns: choose one of the suggestions.".into(),
                );
                return None;
            };
            let meant = typed.is_empty()
                || match towns.find(typed, usize::MAX) {
                    Found::One(one) => one.id == town.id,
                    Found::Several(several) => several.iter().any(|t| t.id == town.id),
                    Found::None => false,
                };
            if meant {
                return Some(town.id);
            }
        }
        if typed.is_empty() {
            return None;
        }
        let shown: String = typed.chars().take(60).collect();
        match towns.find(typed, TOWN_CHOICES) {
            Found::One(town) => Some(town.id),
            Found::Several(_) => {
                errors.insert(
                    key.to_owned(),
                    format!("More than one town matches “{shown}”: choose yours from the list."),
                );
                None
            }
            Found::None => {
                errors.insert(
                    key.to_owned(),
                    format!(
                        "No town called “{shown}” was found: check the spelling, or choose a \
                         nearby larger town."
                    ),
                );
                None
            }
        }
    }

    /// "near" (a town id, or a name as typed) and "radius_km" from a query string.
    pub(crate) fn read_near(
        get: &impl Fn(&str) -> Option<String>,
        problems: &mut FieldErrors,
    ) -> Option<Near> {
        let near = get("near").unwrap_or_default();
        let near = near.trim();
        let radius = get("radius_km").unwrap_or_default();
        let radius_km = match radius.trim() {
            "" => DEFAULT_RADIUS_KM,
            raw => match raw.parse::<u32>() {
                Ok(km) if RADII_KM.contains(&km) => km,
                _ => {
                    problems.insert(
                        "radius_km".into(),
                        "Distance must be one of 10, 25, 50, 100, 200 or 500 km.".into(),
                    );
                    return None;
                }
            },
        };
        if near.is_empty() {
            return None;
        }
        let town_id = if near.bytes().all(|b| b.is_ascii_digit()) {
            read_town("", near, "near", problems)
        } else {
            read_town(near, "", "near", problems)
        }?;
        Some(Near { town_id, radius_km })
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn distances_read_as_whole_kilometres() {
        assert_eq!(format_distance(0.0), "Less than 1 km away");
        assert_eq!(format_distance(33.6), "34 km away");
        assert_eq!(format_distance(1_234.4), "1,234 km away");
    }

    #[test]
    fn a_town_is_read_from_its_label_its_id_or_a_choice_among_namesakes() {
        let mut errors = FieldErrors::new();
        let chicago = read_town("Chicago, Illinois", "", "town", &mut errors).unwrap();
        assert_eq!(
            read_town("", &chicago.to_string(), "town", &mut errors),
            Some(chicago)
        );
        assert_eq!(read_town("  ", "", "town", &mut errors), None);
        assert!(errors.is_empty(), "{errors:?}");

        // A name several towns have is a choice, and the choice settles it.
        assert_eq!(read_town("Springfield", "", "town", &mut errors), None);
        assert!(errors["town"].contains("More than one town"), "{errors:?}");
        let choices = town_choices("Springfield");
        assert!(choices.len() > 2);
        let illinois = choices
            .iter()
            .find(|p| p.label == "Springfield, Illinois")
            .unwrap();
        let mut errors = FieldErrors::new();
        let id = illinois.town_id.to_string();
        assert_eq!(
            read_town("Springfield", &id, "town", &mut errors),
            Some(illinois.town_id)
        );
        // A choice that the text no longer means gives way to the text.
        assert_eq!(
            read_town("Chicago", &id, "town", &mut errors),
            Some(chicago)
        );
        assert!(errors.is_empty(), "{errors:?}");

        for (typed, id) in [("Atlantis Under The Sea", ""), ("", "12"), ("", "abc")] {
            let mut errors = FieldErrors::new();
            assert_eq!(read_town(typed, id, "town_id", &mut errors), None);
            assert!(errors.contains_key("town_id"), "{typed:?} {id:?}");
        }
    }

    #[test]
    fn near_takes_a_town_and_one_of_the_distances() {
        let query = |near: &'static str, radius: &'static str| {
            let mut problems = FieldErrors::new();
            let get = move |key: &str| match key {
                "near" => Some(near.to_owned()),
                "radius_km" => Some(radius.to_owned()),
                _ => None,
            };
            (read_near(&get, &mut problems), problems)
        };
        let (near, problems) = query("Chicago", "");
        assert!(problems.is_empty());
        let near = near.unwrap();
        assert_eq!(near.radius_km, DEFAULT_RADIUS_KM);
        let (by_id, _) = query(Box::leak(near.town_id.to_string().into_boxed_str()), "200");
        assert_eq!(by_id.unwrap().radius_km, 200);
        assert_eq!(query("", "100"), (None, FieldErrors::new()));
        let (none, problems) = query("Chicago", "30");
        assert_eq!(none, None);
        assert!(problems.contains_key("radius_km"));
        let (none, problems) = query("Springfield", "50");
        assert_eq!(none, None);
        assert!(problems.contains_key("near"));
    }
}
