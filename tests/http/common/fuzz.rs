//! Random inputs for the fuzz tests: a seeded generator (replay a failure with
//! FUZZ_SEED) and random text, JSON values and objects.

use serde_json::{json, Value};

/// FUZZ_SEED (or a fresh seed) and FUZZ_CASES (or `default_cases`), printed so a failure can be replayed.
pub fn seed_and_cases(default_cases: usize) -> (u64, usize) {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let cases: usize = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    println!("fuzz: FUZZ_SEED={seed} FUZZ_CASES={cases}");
    (seed, cases)
}

/// A small deterministic generator, so a failing case can be replayed with FUZZ_SEED.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub fn random_text(rng: &mut Rng) -> String {
    let samples = [
        "",
        " ",
        "Toyota",
        "corolla",
        "2017",
        "-5",
        "0",
        "12.345",
        "1e9",
        "NaN",
        "Infinity",
        "99999999999999999999999",
        "sold",
        "new",
        "available",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "https://example.com/a.jpg",
        "Škoda 🚗",
        "a\u{0}b",
        "' OR 1=1 --",
        "%",
        "_",
    ];
    match rng.below(10) {
        0 => "x".repeat(rng.below(6_000)),
        1 => (0..rng.below(20))
            .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
            .collect(),
        _ => rng.pick(&samples).to_string(),
    }
}

pub fn random_json(rng: &mut Rng, depth: u32, keys: &[&str]) -> Value {
    match rng.below(if depth > 1 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(*rng.pick(&[0_i64, -1, 1, 2017, 1886, 99_999, i64::MAX, i64::MIN])),
        3 => json!(*rng.pick(&[0.5_f64, -0.01, 15999.99, 1e300, 2017.0])),
        4 | 5 => json!(random_text(rng)),
        6 => Value::Array(
            (0..rng.below(3))
                .map(|_| random_json(rng, depth + 1, keys))
                .collect(),
        ),
        _ => random_object(rng, depth + 1, keys),
    }
}

pub fn random_object(rng: &mut Rng, depth: u32, keys: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    for _ in 0..rng.below(10) {
        map.insert(rng.pick(keys).to_string(), random_json(rng, depth, keys));
    }
    Value::Object(map)
}
