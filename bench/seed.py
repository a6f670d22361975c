"""Fills an AutoNexus SQLite database with N realistic listings, fast: one transaction,
bulk inserts (the FTS index is kept by the schema's own triggers).

    python3 seed.py DATABASE N

The database must already exist (the server creates and migrates it). Prints the time taken.
"""
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
                   "new" if age == 0 and mileage < 500 else "used", description, status, listed, listed)

    db.executemany(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, description, "
        "status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cars(),
    )
db.execute("PRAGMA optimize")
print(f"seeded {n} cars from {sellers} sellers in {time.monotonic() - started:.1f} s")
