"""Photo upload budgets (issue 24), against the release server with demo data:

A. one seller sends 10 photos of 4000 x 3000 (JPEG) in one request to
   POST /api/cars/{id}/photos/: wall time (each is decoded, turned upright, stripped, and
   stored with 3 sizes in 2 formats); three runs.
B. four sellers do that at once: the server's peak RSS (VmRSS sampled every 20 ms) and, meanwhile,
   the latency of other requests (GET /cars, one after another from two threads).

Run by bench/photos.sh, which starts the server; writes a markdown table to stdout.
"""
import io
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.request
import uuid

from PIL import Image, ImageFilter

BASE = os.environ["BASE"]
PID = int(os.environ["SERVER_PID"])
CACHE = os.environ["PHOTO_CACHE"]


def camera_photos(count=10):
    """Ten 4000 x 3000 JPEGs with the detail of a real photo (gradients, edges, noise)."""
    os.makedirs(CACHE, exist_ok=True)
    paths = []
    for n in range(count):
        path = os.path.join(CACHE, f"camera-{n}.jpg")
        if not os.path.exists(path):
            rnd = random.Random(n)
            small = Image.new("RGB", (400, 300))
            px = small.load()
            for y in range(300):
                for x in range(400):
                    px[x, y] = (
                        (x * 255 // 400 + rnd.randrange(40)) % 256,
                        (y * 255 // 300 + rnd.randrange(40)) % 256,
                        ((x + y) * 200 // 700 + 30 * n) % 256,
                    )
            big = small.resize((4000, 3000), Image.BICUBIC).filter(ImageFilter.DETAIL)
            noise = Image.effect_noise((4000, 3000), 40).convert("RGB")
            Image.blend(big, noise, 0.18).save(path, quality=90)
        paths.append(path)
    return paths


def call(method, path, token=None, body=None, content_type=None):
    req = urllib.request.Request(BASE + path, data=body, method=method)
    if token:
        req.add_header("Authorization", f"Token {token}")
    if content_type:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=300) as res:
        return res.status, res.read()


def token(user):
    body = json.dumps({"username": user, "password": "autonexus-demo"}).encode()
    return json.loads(call("POST", "/api/auth/token/", body=body, content_type="application/json")[1])["token"]


def new_car(tok):
    body = json.dumps({"make": "Volvo", "model": "XC60", "year": 2019, "price": "24500",
                       "mileage": 60000, "condition": "used", "description": "Photo benchmark."}).encode()
    return json.loads(call("POST", "/api/cars/", tok, body, "application/json")[1])["id"]


def upload(tok, car, files):
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for path in files:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; "
                  f"filename=\"{os.path.basename(path)}\"\r\nContent-Type: image/jpeg\r\n\r\n".encode())
        with open(path, "rb") as f:
            out.write(f.read())
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    started = time.monotonic()
    status, body = call("POST", f"/api/cars/{car}/photos/", tok, out.getvalue(),
                        f"multipart/form-data; boundary={boundary}")
    elapsed = time.monotonic() - started
    assert status == 201, body[:300]
    photos = json.loads(body)["photos"]
    assert len(photos) == len(files) and all(p["width"] == 2560 for p in photos), photos[:1]
    return elapsed


def rss_kib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    files = camera_photos()
    size_mb = sum(os.path.getsize(p) for p in files) / 1e6
    sellers = ["alice", "bob", "carol", "dmitri"]
    tokens = {s: token(s) for s in sellers}

    # A: one seller, 10 photos in one request.
    single = []
    for _ in range(3):
        single.append(upload(tokens["alice"], new_car(tokens["alice"]), files))

    # B: four sellers at once, with RSS sampled and other requests timed meanwhile.
    cars = {s: new_car(tokens[s]) for s in sellers}
    before = rss_kib()
    peak = [before]
    latencies = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.02)

    def browse():
        while not done.is_set():
            started = time.monotonic()
            call("GET", "/cars")
            latencies.append(time.monotonic() - started)

    helpers = [threading.Thread(target=sample)] + [threading.Thread(target=browse) for _ in range(2)]
    for t in helpers:
        t.start()
    times = {}

    def seller(s):
        times[s] = upload(tokens[s], cars[s], files)

    started = time.monotonic()
    workers = [threading.Thread(target=seller, args=(s,)) for s in sellers]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    together = time.monotonic() - started
    done.set()
    for t in helpers:
        t.join()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    print(f"10 photos of 4000 x 3000 ({size_mb:.1f} MB of JPEG), {os.cpu_count()} cores\n")
    print("| measure | result | budget |")
    print("|---|---:|---:|")
    print(f"| A: 10 photos in one request, wall time (3 runs) | {', '.join(f'{t:.2f} s' for t in single)} | ≤ 6 s |")
    print(f"| B: 4 sellers x 10 photos at once, all done | {together:.2f} s (each {', '.join(f'{times[s]:.1f}' for s in sellers)} s) | |")
    print(f"| B: server RSS before / peak | {before / 1024:.0f} / {peak[0] / 1024:.0f} MiB | peak ≤ 300 MB |")
    print(f"| B: GET /cars meanwhile ({len(latencies)} requests), p50 / p99 / max | "
          f"{p(0.5):.1f} / {p(0.99):.1f} / {latencies[-1] * 1000:.1f} ms | p99 < 100 ms |")


if __name__ == "__main__":
    main()
