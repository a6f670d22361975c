"""Fills an AutoNexus SQLite database with N realistic listings, fast: one transaction,
bulk inserts (the FTS index is kept by the schema's own triggers).

    python3 seed.py DATABASE N

The database must already exist (the server creates and migrates it). Prints the time taken.

Each car also gets a specification (body, fuel, gearbox, drive, colour, power, equipment)
and a town, drawn from a second random sequence so the other fields are the same as before
they existed. The towns are the demo's regional market: the 40 largest towns within 200 km
of Chicago and the 10 largest elsewhere (src/geo/towns-us.tsv), weighted by the square root
of their population, so "near Chicago" searches have most of the cars to sift.
"""
import math
import pathlib
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

path, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261126)
CATALOGUE = {
    "Toyota": ["Corolla", "Camry", "RAV4", "Yaris", "Prius", "Hilux"],
    "Honda": ["Civic", "Accord", "CR-V", "Jazz", "HR-V"],
    "Ford": ["Focus", "Fiesta", "Mondeo", "Kuga", "Ranger"],
    "Volkswagen": ["Golf", "Polo", "Passat", "Tiguan", "T-Roc"],
    "BMW": ["3 Series", "5 Series", "X3", "X5", "1 Series"],
    "Mercedes-Benz": ["C-Class", "E-Class", "A-Class", "GLC"],
    "Audi": ["A3", "A4", "A6", "Q5", "Q3"],
    "Skoda": ["Octavia", "Fabia", "Superb", "Kodiaq"],
    "Hyundai": ["i30", "Tucson", "Kona", "i20"],
    "Kia": ["Ceed", "Sportage", "Niro", "Picanto"],
    "Nissan": ["Qashqai", "Juke", "Leaf", "Micra"],
    "Mazda": ["Mazda3", "CX-5", "MX-5", "Mazda6"],
    "Volvo": ["V60", "XC60", "XC40", "V90"],
    "Peugeot": ["208", "308", "3008", "5008"],
    "Renault": ["Clio", "Megane", "Captur", "Zoe"],
    "Tesla": ["Model 3", "Model Y", "Model S"],
}
COLOURS = ["black", "white", "silver", "grey", "blue", "red", "green"]
NOTES = [
    "Full service history.", "One careful owner.", "New tyres all round.", "Timing belt done.",
    "Non-smoker.", "Two keys.", "Minor scratch on the rear bumper.", "Recent MOT, no advisories.",
    "Heated seats and parking sensors.", "Garaged since new.", "Towbar fitted.", "Sat nav and reversing camera.",
]
makes = list(CATALOGUE)
now = datetime.now(timezone.utc)
specs_rng = random.Random(20261207)
BODIES = [("hatchback", 30), ("suv", 28), ("sedan", 15), ("estate", 12), ("mpv", 4), ("coupe", 4),
          ("convertible", 2), ("pickup", 3), ("van", 2)]
FUELS = [("petrol", 48), ("diesel", 28), ("hybrid", 12), ("electric", 7), ("plug_in_hybrid", 4), ("lpg", 1)]
SPEC_COLOURS = ["black", "white", "silver", "grey", "blue", "red", "green"]


def weighted(rng, pairs):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def regional_towns():
    rows = []
    tsv = pathlib.Path(__file__).resolve().parent.parent / "src/geo/towns-us.tsv"
    for line in tsv.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            town_id, _name, _region, population, lat, lon = line.split("\t")
            rows.append((int(town_id), int(population), float(lat), float(lon)))
    chicago = next(r for r in rows if r[0] == 4887398)

    def km(a, b):
        p1, p2 = math.radians(a[2]), math.radians(b[2])
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[3] - a[3]) / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(h))

    near = [r for r in rows if km(r, chicago) <= 200][:40]
    far = [r for r in rows if km(r, chicago) > 200][:10]
    return near + far


TOWNS = regional_towns()
TOWN_WEIGHTS = [math.sqrt(t[1]) for t in TOWNS]


def specs():
    """body_type, fuel, transmission, drive, colour, power_kw, equipment, town_id, latitude, longitude"""
    body = weighted(specs_rng, BODIES)
    fuel = weighted(specs_rng, FUELS)
    automatic = fuel in ("electric", "hybrid", "plug_in_hybrid") or specs_rng.random() < 0.45
    drive = "all_wheel" if body in ("suv", "pickup") and specs_rng.random() < 0.5 else (
        "rear" if specs_rng.random() < 0.15 else "front")
    power = int(specs_rng.triangular(50, 300, 100))
    equipment = 0
    for bit in range(30):
        if specs_rng.random() < 0.3:
            equipment |= 1 << bit
    town = specs_rng.choices(TOWNS, weights=TOWN_WEIGHTS)[0]
    return (body, fuel, "automatic" if automatic else "manual", drive, specs_rng.choice(SPEC_COLOURS),
            power, equipment, town[0], town[2], town[3])


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


db = sqlite3.connect(path, timeout=30)
started = time.monotonic()
with db:
    sellers = max(10, n // 100)
    first = db.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0] + 1
    db.executemany(
        "INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?, ?, NULL, '!', ?)",
        ((first + i, f"seller{first + i}", stamp(now - timedelta(days=800))) for i in range(sellers)),
    )

    def cars():
        for i in range(n):
            make = makes[rng.randrange(len(makes))]
            model = rng.choice(CATALOGUE[make])
            age = rng.randrange(16)
            year = now.year - age
            price = max(500, int(40000 * 0.88 ** age * rng.uniform(0.6, 1.4))) * 100
            mileage = rng.randrange(40) * 10 if age == 0 else age * rng.randrange(8000, 20000)
            status = "sold" if rng.random() < 0.05 else "pending" if rng.random() < 0.05 else "available"
            listed = stamp(now - timedelta(minutes=(n - i) * 3))
            description = f"{year} {make} {model} in {rng.choice(COLOURS)}. {rng.choice(NOTES)} {rng.choice(NOTES)}"
            yield (first + rng.randrange(sellers), make, model, year, price, mileage,
                   "new" if age == 0 and mileage < 500 else "used", description, status, listed, listed,
                   *specs())

    db.executemany(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, description, "
        "status, created_at, updated_at, body_type, fuel, transmission, drive, colour, power_kw, equipment, "
        "town_id, latitude, longitude) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cars(),
    )
db.execute("PRAGMA optimize")
print(f"seeded {n} cars from {sellers} sellers in {time.monotonic() - started:.1f} s")
