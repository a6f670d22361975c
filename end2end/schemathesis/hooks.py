"""schemathesis hooks (SCHEMATHESIS_HOOKS): uploads are real photos.

The document says `primary_image` is a binary file and the server decodes it: random bytes
are schema-valid yet no photo, so generated uploads are small real PNG images instead.
"""

import struct
import zlib

import schemathesis
from hypothesis import strategies as st


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


schemathesis.openapi.format(
    "binary",
    st.builds(
        png,
        st.integers(1, 64),
        st.integers(1, 64),
        st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    ),
)



# The fields whose rules tie them together: an electric car has no engine size, and only
# electric and plug-in hybrid cars have a battery capacity.
FUEL_FIELDS = ("fuel", "engine_cc", "battery_kwh")


def partial_fuel_change(case) -> bool:
    """A change of a listing that sends some of the fuel fields but not all three: the
    listing's own values decide whether it is accepted, which the document cannot say."""
    if not isinstance(case.body, dict) or case.method.upper() not in ("PUT", "PATCH"):
        return False
    if case.path != "/api/cars/{id}/":
        return False
    sent = [field in case.body for field in FUEL_FIELDS]
    return any(sent) and not all(sent)


# Towns the gazetteer has (Chicago, New York City, Springfield in Illinois): the document
# says a town is an id from /api/towns/, not which ids exist, as it cannot say which car ids
# exist. Ids drawn at random name no town and are refused, so a drawn id becomes a real one.
TOWN_IDS = (4887398, 5128581, 4250542)


def real_towns(case) -> None:
    """`town_id` (a whole number from 1 in a body) and `near` (a listing filter) name real
    towns."""
    if isinstance(case.body, dict):
        town = case.body.get("town_id")
        # A whole number may come as 277.0, which JSON Schema counts as an integer. Below 1,
        # or with a fraction, is out of the document's range: a negative case, left to be
        # refused.
        if isinstance(town, (int, float)) and not isinstance(town, bool):
            if town >= 1 and float(town).is_integer():
                case.body["town_id"] = TOWN_IDS[int(town) % len(TOWN_IDS)]
    if isinstance(case.query, dict) and "near" in case.query:
        case.query["near"] = str(TOWN_IDS[len(str(case.query["near"])) % len(TOWN_IDS)])


@schemathesis.hook
def before_call(context, case, kwargs):
    """Town ids are real ones (see `real_towns`). The stateful phase does not apply
    `filter_case`: there a partial fuel change is made whole instead, with values that keep
    it valid whatever the listing has (an empty fuel and battery, or a plug-in hybrid's
    fuel when a battery capacity is sent)."""
    real_towns(case)
    if not partial_fuel_change(case):
        return
    body = case.body
    battery = body.get("battery_kwh") not in (None, "")
    body.setdefault("fuel", "plug_in_hybrid" if battery else "")
    body.setdefault("engine_cc", "")
    body.setdefault("battery_kwh", "")


@schemathesis.hook
def filter_case(context, case) -> bool:
    """Uploads are real photos in every phase, and edits of the fuel rules are whole.

    The stateful phase sometimes fills a file field with text (such as "__main__") instead of
    what the `binary` format above makes: schema-valid, since the document cannot say "a
    decodable image", but no photo. Those cases are left out, as random bytes are above.

    A change of a listing (PUT, PATCH) that sends some of the fuel, engine size and battery
    but not all three is checked against the values the listing has (a PATCH of the engine
    size on an electric car is refused), which the document cannot say. Those cases are left
    out; creating a listing, and changes that send all three or none, are checked in full.
    """
    if not isinstance(case.body, dict):
        # A form (application/x-www-form-urlencoded) is names and values: a body that is
        # no object (a list, say) has no form encoding, and what the tool sends for it
        # instead ("[]") is a well-formed form with one field of an unknown name, which the
        # server ignores as DRF does. JSON bodies that are no object are sent and refused.
        return case.media_type != "application/x-www-form-urlencoded"
    if partial_fuel_change(case):
        return False
    if case.media_type != "multipart/form-data":
        return True
    for field in ("primary_image", "photos"):
        value = case.body.get(field)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) for item in values):
            return False
    return True
