//! The demo listings' specifications: mixes like a real market's (far more petrol
//! hatchbacks than hydrogen vans), with figures that suit the model and equipment that
//! suits the car's age and price.

use super::{Body, Rng};
use crate::cars::model::{
    BodyType, Colour, Drive, Equipment, EquipmentItem as Item, Fuel, Specs, Transmission, YearMonth,
};

/// Models that run on electricity alone, or are sold mostly as hybrids.
const ELECTRIC: &[&str] = &["Bolt EV", "Leaf", "Ioniq 5", "Model 3", "Model Y"];
const HYBRID: &[&str] = &["Prius", "Niro"];
/// Makes whose cars are often sold with a diesel or a manual gearbox (European ones).
const EUROPEAN: &[&str] = &[
    "Volkswagen",
    "BMW",
    "Mercedes-Benz",
    "Audi",
    "Peugeot",
    "Renault",
    "Skoda",
    "Volvo",
    "Fiat",
    "MINI",
];

/// Each item: the year it became common, and how often (in %) a budget car and a premium
/// car of that age or newer has it.
const EQUIPMENT: &[(Item, i32, u64, u64)] = &[
    (Item::AirConditioning, 1990, 95, 100),
    (Item::ClimateControl, 2000, 40, 90),
    (Item::Navigation, 2005, 30, 85),
    (Item::CarplayAndroidAuto, 2016, 60, 90),
    (Item::Bluetooth, 2008, 85, 100),
    (Item::ParkingSensors, 2005, 40, 90),
    (Item::ReversingCamera, 2012, 40, 90),
    (Item::CruiseControl, 2000, 60, 95),
    (Item::AdaptiveCruise, 2015, 15, 70),
    (Item::HeatedSeats, 2000, 30, 85),
    (Item::Leather, 1990, 10, 70),
    (Item::Sunroof, 1990, 10, 40),
    (Item::PanoramicRoof, 2010, 5, 35),
    (Item::TowBar, 1990, 12, 20),
    (Item::AlloyWheels, 1990, 50, 95),
    (Item::LedHeadlights, 2014, 30, 85),
    (Item::KeylessEntry, 2010, 30, 80),
    (Item::LaneAssist, 2016, 30, 80),
    (Item::BlindSpot, 2014, 20, 70),
    (Item::EmergencyBraking, 2017, 50, 90),
    (Item::HeadUpDisplay, 2014, 2, 40),
    (Item::HeatedSteeringWheel, 2014, 10, 50),
    (Item::ElectricSeats, 1995, 5, 60),
    (Item::Isofix, 2006, 95, 100),
    (Item::StartStop, 2012, 60, 80),
    (Item::RainSensor, 2005, 30, 85),
    (Item::PowerTailgate, 2014, 5, 60),
    (Item::PremiumSound, 2000, 5, 50),
    (Item::RoofRails, 1990, 10, 60),
    (Item::HeatPump, 2019, 40, 80),
];

/// A demo car's shape, refined from the catalogue's broad one for the few models that
/// are not what their group suggests.
fn body_type(model: &str, body: Body) -> BodyType {
    match model {
        "911" => BodyType::Coupe,
        "MX-5 Miata" => BodyType::Convertible,
        "V60" | "Outback" => BodyType::Estate,
        _ => match body {
            Body::Sedan => BodyType::Sedan,
            Body::Suv => BodyType::Suv,
            Body::Hatch => BodyType::Hatchback,
        },
    }
}

fn chance(rng: &mut Rng, percent: u64) -> bool {
    rng.below(100) < percent
}

/// The car as the demo lists it.
pub struct DemoCar<'a> {
    pub make: &'a str,
    pub model: &'a str,
    pub body: Body,
    /// Price when new, in dollars.
    pub new_price: i64,
    pub year: i32,
    pub colour: &'a str,
    pub description: &'a str,
    pub this_year: i32,
    pub this_month: u32,
}

pub fn demo_specs(rng: &mut Rng, car: &DemoCar) -> Specs {
    let body_type = body_type(car.model, car.body);
    let european = EUROPEAN.contains(&car.make);
    let fuel = if ELECTRIC.contains(&car.model) {
        Fuel::Electric
    } else if HYBRID.contains(&car.model) {
        Fuel::Hybrid
    } else {
        match rng.below(100) {
            0..=11 if matches!(car.model, "Outlander" | "XC60" | "Cayenne" | "3008") => {
                Fuel::PlugInHybrid
            }
            12..=29 if european => Fuel::Diesel,
            30..=37 if matches!(car.make, "Toyota" | "Lexus" | "Honda" | "Hyundai" | "Kia") => {
                Fuel::Hybrid
            }
            38..=40 if matches!(car.make, "Fiat" | "Renault" | "Skoda") => Fuel::Lpg,
            _ => Fuel::Petrol,
        }
    };
    let transmission = if fuel == Fuel::Electric
        || fuel == Fuel::Hybrid
        || !chance(rng, if european { 45 } else { 8 })
    {
        Transmission::Automatic
    } else {
        Transmission::Manual
    };
    let drive = match (car.make, body_type) {
        ("Subaru", _) => Drive::AllWheel,
        (_, BodyType::Suv) if car.new_price >= 45_000 => Drive::AllWheel,
        ("BMW" | "Mercedes-Benz", _) | (_, BodyType::Coupe | BodyType::Convertible) => {
            if chance(rng, 70) {
                Drive::Rear
            } else {
                Drive::AllWheel
            }
        }
        (_, BodyType::Suv) if chance(rng, 55) => Drive::AllWheel,
        ("Tesla", _) if chance(rng, 50) => Drive::AllWheel,
        ("Tesla", _) => Drive::Rear,
        _ => Drive::Front,
    };
    // Power grows with the price of the model, give or take 15%.
    let base_kw = car.new_price as f64 / 260.0;
    let power_kw = (base_kw * (0.85 + rng.below(30) as f64 / 100.0)).round() as i32;
    let engine_cc = (fuel != Fuel::Electric).then(|| {
        let cc = if fuel == Fuel::Diesel {
            power_kw * 16
        } else {
            power_kw * 13
        };
        ((cc + 50) / 100 * 100).clamp(1_000, 4_000)
    });
    let battery_wh = match fuel {
        Fuel::Electric => {
            Some(40_000 + (car.new_price as i32 - 28_000).max(0) * 2 + rng.below(80) as i32 * 100)
        }
        Fuel::PlugInHybrid => Some(10_000 + rng.below(100) as i32 * 100),
        _ => None,
    };
    let (doors, seats) = match body_type {
        BodyType::Coupe => (2, 4),
        BodyType::Convertible => (2, 2),
        BodyType::Sedan => (4, 5),
        BodyType::Suv
            if matches!(car.model, "Kodiaq" | "Explorer" | "Outlander") && chance(rng, 40) =>
        {
            (5, 7)
        }
        BodyType::Hatchback if car.model == "500" || (car.model == "Cooper" && chance(rng, 60)) => {
            (3, 4)
        }
        _ => (5, 5),
    };
    let age = car.this_year - car.year;
    let previous_owners = if age <= 0 {
        0
    } else {
        1 + rng.below((age / 4 + 1) as u64) as i32
    };
    // Registered in its model year (new models a little before it), in a month that has come.
    let registered_year = (car.year - i32::from(chance(rng, 10))).min(car.this_year);
    let last_month = if registered_year == car.this_year {
        car.this_month
    } else {
        12
    };
    let first_registration = YearMonth {
        year: registered_year,
        month: 1 + rng.below(u64::from(last_month)) as u32,
    };
    // 0 for a budget car, 100 for a premium one.
    let premium = ((car.new_price - 20_000) * 100 / 40_000).clamp(0, 100) as u64;
    let roomy = matches!(body_type, BodyType::Suv | BodyType::Estate | BodyType::Mpv);
    let mut equipment: Equipment = EQUIPMENT
        .iter()
        .filter(|(item, since, budget, best)| {
            let fits = match item {
                Item::HeatPump => fuel == Fuel::Electric,
                Item::StartStop => fuel != Fuel::Electric,
                Item::PowerTailgate | Item::RoofRails => roomy,
                Item::TowBar => !matches!(body_type, BodyType::Coupe | BodyType::Convertible),
                _ => true,
            };
            fits && car.year >= *since && chance(rng, budget + (best - budget) * premium / 100)
        })
        .map(|(item, ..)| *item)
        .collect();
    // What the description says the car has, it has.
    for (words, item) in [
        ("Heated seats", Item::HeatedSeats),
        ("reversing camera", Item::ReversingCamera),
        ("Apple CarPlay", Item::CarplayAndroidAuto),
    ] {
        if car.description.contains(words) {
            equipment.insert(item);
        }
    }
    Specs {
        body_type: Some(body_type),
        fuel: Some(fuel),
        transmission: Some(transmission),
        drive: Some(drive),
        colour: Colour::parse(car.colour),
        power_kw: Some(power_kw),
        engine_cc,
        battery_wh,
        doors: Some(doors),
        seats: Some(seats),
        previous_owners: Some(previous_owners),
        first_registration: Some(first_registration),
        equipment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{cars::model::SpecsForm, error::FieldErrors};

    fn car<'a>(
        make: &'a str,
        model: &'a str,
        body: Body,
        new_price: i64,
        year: i32,
    ) -> DemoCar<'a> {
        DemoCar {
            make,
            model,
            body,
            new_price,
            year,
            colour: "silver",
            description: "Heated seats, reversing camera and Apple CarPlay.",
            this_year: 2026,
            this_month: 3,
        }
    }

    /// Every demo specification passes the sellers' own validation, and the mix is a market's.
    #[test]
    fn demo_specifications_are_valid_and_mixed_like_a_market() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let cars = [
            car("Volkswagen", "Golf", Body::Hatch, 26_000, 2019),
            car("Nissan", "Leaf", Body::Hatch, 30_000, 2026),
            car("Mitsubishi", "Outlander", Body::Suv, 30_000, 2022),
            car("Porsche", "911", Body::Sedan, 110_000, 2016),
            car("Fiat", "Panda", Body::Hatch, 15_000, 2011),
        ];
        let (mut petrol, mut electric, mut loaded, mut bare) = (0, 0, 0, 0);
        for n in 0..500 {
            let car = &cars[n % cars.len()];
            let specs = demo_specs(&mut rng, car);
            let mut errors = FieldErrors::new();
            let again = SpecsForm::from_specs(&specs).validate(2026, &mut errors);
            assert_eq!(again.as_ref(), Some(&specs), "{errors:?}");
            petrol += usize::from(specs.fuel == Some(Fuel::Petrol));
            electric += usize::from(specs.fuel == Some(Fuel::Electric));
            let items = specs.equipment.items().count();
            match car.model {
                "911" => loaded += items,
                "Panda" => bare += items,
                _ => {}
            }
            assert!(
                specs.equipment.has(Item::HeatedSeats),
                "as its description says"
            );
            if car.model == "Panda" {
                let kw = specs.power_kw.unwrap();
                assert!((45..=70).contains(&kw), "a Panda with {kw} kW");
            }
            if car.model == "Leaf" {
                assert_eq!(specs.engine_cc, None);
                assert!(specs.battery_wh.is_some());
                let registered = specs.first_registration.unwrap();
                assert!(
                    registered.year < 2026 || registered.month <= 3,
                    "{registered} has not come"
                );
            }
        }
        assert!(petrol > electric, "{petrol} petrol, {electric} electric");
        assert!(
            loaded > 2 * bare,
            "a new premium car has more equipment than an old budget one"
        );
    }
}
