"""Copies the Django peer's sellers and cars into an AutoNexus SQLite database, so both
servers answer the same requests over the same data.

    python3 import_django.py DJANGO_DB AUTONEXUS_DB BENCH_USER_ID

The AutoNexus database must already exist (the server creates it) and hold the `bench`
account (registered through the app, so its password works); the peer's `bench` cars are
given to that account, every other seller is copied without a usable password.

The peer has no town for its cars: each seller gets one of the 50 largest towns of the
gazetteer (src/geo/towns-us.tsv), by seller id, and all of that seller's cars are there.
The specification stays unknown.
"""
import sqlite3
import sys
from datetime import datetime
from decimal import Decimal

django_path, ours_path, bench_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
src = sqlite3.connect(django_path)
dst = sqlite3.connect(ours_path, timeout=30)
OFFSET = 1_000_000  # peer user ids move out of the way of accounts made through the app
GAZETTEER = __import__("pathlib").Path(__file__).resolve().parent.parent / "src/geo/towns-us.tsv"
TOWNS = []  # (id, latitude, longitude) of the largest towns, most populous first
for line in GAZETTEER.read_text(encoding="utf-8").splitlines():
    if line and not line.startswith("#"):
        town_id, _name, _region, _population, latitude, longitude = line.split("\t")
        TOWNS.append((int(town_id), float(latitude), float(longitude)))
        if len(TOWNS) == 50:
            break


def stamp(text):
    """Django's '2024-09-07 22:12:02[.ffffff]' (UTC) -> our fixed-width RFC 3339."""
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            pass
    raise ValueError(text)


users = {}
with dst:
    for uid, username, joined in src.execute("SELECT id, username, date_joined FROM auth_user"):
        if username == "bench":
            users[uid] = bench_id
            continue
        users[uid] = uid + OFFSET
        dst.execute(
            "INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?, ?, NULL, '!', ?)",
            (uid + OFFSET, username[:30] if len(username) >= 3 else username + "___", stamp(joined)),
        )
    rows = (
        (
            users[seller], make, model, year, int(Decimal(str(price)) * 100), mileage, condition,
            description[:5000], image_url or None, status, stamp(created), stamp(updated),
            *TOWNS[seller % len(TOWNS)],
        )
        for (seller, make, model, year, price, mileage, condition, description, image_url, status, created, updated)
        in src.execute(
            "SELECT seller_id, make, model, year, price, mileage, condition, description, image_url, status, "
            "created_at, updated_at FROM carsales_car ORDER BY id"
        )
    )
    dst.executemany(
        "INSERT INTO cars (seller_id, make, model, year, price_cents, mileage_km, condition, description, "
        "image_url, status, created_at, updated_at, town_id, latitude, longitude) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
count = dst.execute("SELECT COUNT(*) FROM cars").fetchone()[0]
print(f"imported: {len(users)} sellers, {count} cars")
