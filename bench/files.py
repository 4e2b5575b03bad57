"""A 50 MB collateral file up and down through gunicorn: time, throughput and the workers' peak
memory (docs/benchmarks.md).

    python bench/files.py [--database-url postgresql://postgres@127.0.0.1:5432/bench_files]
                          [--file padded|photo|png|all] [--downloads 5] [--workers 2] [--mb 50]

Builds a scratch database (SQLite in a temporary folder by default; a PostgreSQL URL is emptied
and migrated first, and emptied again at the end), with a manager, a rep and a print item, and
starts the app under gunicorn (bench/run.py's Server) on it. Then, for each file:

- makes a real PDF of just under `--mb` MB (the upload limit, MAX_FILE_MB): one A4 page with a
  title, and an image XObject of random RGB pixels (incompressible) that fills the rest. "padded":
  the image is in the page's resources but never painted, so the preview renders a page of text;
  "photo": the page paints it, so rendering the preview decodes a 4096-pixel-wide photo, the
  worst a flyer with a print-resolution picture brings (the preview is made in a child process,
  inventory/files/preview_process.py, whose peak is measured too: it is not the worker's);
  and "png": a 170 KB PNG of 40 megapixels (the most an image may have), small to send but
  160 MB of pixels to scale down for its preview;
- uploads it as the manager through the files page's form (multipart, with its CSRF token), so
  that it passes the type check and the preview rendering as any upload does;
- downloads it `--downloads` times one after another as the rep (/files/<id>), then once through
  a share link with no cookies, then once per worker at the same time, each checked against the
  file's SHA-256;
- reads each worker's peak memory (VmHWM, /proc/<pid>/status) after a warm-up, after the upload
  and after the downloads.

The target: no worker's peak past 200 MB. Not a test: numbers depend on the machine.
"""
import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402
from sqlalchemy import text  # noqa: E402

from inventory import MIGRATIONS, create_app  # noqa: E402
from inventory.auth import services as auth  # noqa: E402
from inventory.catalog import services as catalog  # noqa: E402
from inventory.config import normalize_database_url  # noqa: E402
from inventory.extensions import db  # noqa: E402
from inventory.files import preview_process, previews  # noqa: E402
from run import Server, logged_in, machine  # noqa: E402

WORKER_MB = 200
PASSWORD = "bench-password-2026"
SKU = "FLY-EXPO-50"
IMAGE_WIDTH = 4096


def big_pdf(total_bytes, paint_image, seed=7):
    """A valid PDF of at most `total_bytes`: one A4 page titled "Expo flyer" with an uncompressed
    image of random RGB pixels, IMAGE_WIDTH wide and as tall as the size allows (painted on the
    page or only listed in its resources). Written by hand, with a correct cross-reference table."""
    height = (total_bytes - 4096) // (3 * IMAGE_WIDTH)
    pixels = random.Random(seed).randbytes(3 * IMAGE_WIDTH * height)
    draw = b"BT /F1 36 Tf 72 770 Td (Expo flyer, 50 MB) Tj ET\n"
    if paint_image:
        side = 451
        draw += f"q {side} 0 0 {round(side * height / IMAGE_WIDTH)} 72 100 cm /Im1 Do Q\n".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R "
        b"/Resources << /Font << /F1 4 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % (IMAGE_WIDTH, height, len(pixels)) + pixels + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    assert len(out) <= total_bytes, (len(out), total_bytes)
    return bytes(out)


def flat_png(width=7000, height=5700):
    """A valid RGBA PNG of one colour, about 170 KB, that decodes to 160 MB of pixels: 40
    megapixels, the most kinds.py lets through. Written row by row."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), b"\x00" + b"\xc8\x1e\x1e\xff" * width
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def prepare(url, folder):
    """Migrate the database (emptied first if it is PostgreSQL) and add the people and the item."""
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "INSTANCE_PATH": folder})
    with app.app_context():
        if not url.startswith("sqlite"):
            empty(url, app)
        flask_migrate.upgrade(directory=MIGRATIONS)
        auth.create_user(db.session, "manager@example.com", "manager", PASSWORD)
        auth.create_user(db.session, "rep@example.com", "rep", PASSWORD)
        catalog.create_product(db.session, name="Expo flyer, print run", category="print", sku=SKU)
        db.session.remove()
        db.engine.dispose()


def empty(url, app=None):
    app = app or create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                             "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-files-")})
    with app.app_context():
        with db.engine.begin() as connection:
            db.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def csrf_token(html):
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    return found.group(1)


def peaks(server, field="VmHWM"):
    """{worker pid: its peak resident memory (VmHWM), or another field of /proc/<pid>/status, in MB}."""
    found = {}
    for pid in server.workers():
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        found[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return found


def resident(server):
    """{worker pid: resident memory now (VmRSS), in MB}."""
    return peaks(server, "VmRSS")


def download(session, url, digest):
    """Seconds to GET url whole (streamed, checked against the SHA-256 hex `digest`), and its size."""
    started = time.perf_counter()
    with session.get(url, stream=True, timeout=120) as response:
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        hashed, size = hashlib.sha256(), 0
        for chunk in response.iter_content(256 * 1024):
            hashed.update(chunk)
            size += len(chunk)
    elapsed = time.perf_counter() - started
    if hashed.hexdigest() != digest:
        raise SystemExit(f"{url}: the bytes differ from the upload's")
    return elapsed, size


# Runs the preview's process and prints its peak memory. Started from this small process, not
# from the benchmark's (Linux counts what a forked child had before exec in its ru_maxrss).
_CHILD_PEAK = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def child_peak_mb(content, kind):
    """The peak memory (ru_maxrss) of the preview's child process (preview_process.py) on this
    file, run as the app runs it: the memory the worker no longer takes."""
    with tempfile.TemporaryFile() as upload:
        upload.write(content)
        upload.seek(0)
        done = subprocess.run([sys.executable, "-c", _CHILD_PEAK, sys.executable, "-P", preview_process.__file__,
                               kind, str(previews.PREVIEW_SIDE), str(previews.RENDER_MEMORY_MB)],
                              stdin=upload, capture_output=True, text=True, check=True)
    status, peak_kb = (int(x) for x in done.stdout.split())
    if status != 0:
        raise SystemExit(f"the preview process ended with status {status}")
    return peak_kb / 1024


def measure(server, name, content, downloads, workers):
    url = server.url
    manager = logged_in(url, "manager@example.com", PASSWORD)
    rep = logged_in(url, "rep@example.com", PASSWORD)
    digest = hashlib.sha256(content).hexdigest()
    # Warm-up, so that "before" is what a worker in use weighs: a login's password check
    # (argon2id, 64 MiB) and the pages, on every worker (gunicorn hands requests to any).
    sessions = [logged_in(url, "rep@example.com", PASSWORD) for _ in range(3 * workers)]
    for _ in range(4 * workers):
        manager.get(f"{url}/i/{SKU}/files")
        rep.get(f"{url}/i/{SKU}")
    before = peaks(server)

    page = manager.get(f"{url}/i/{SKU}/files")
    started = time.perf_counter()
    response = manager.post(f"{url}/i/{SKU}/files", allow_redirects=False,
                            data={"csrf_token": csrf_token(page.text), "kind": "shareable",
                                  "title": f"Expo flyer 50 MB ({name})", "note": "bench/files.py"},
                            files={"file": (f"expo-flyer-{name}.{'png' if name == 'png' else 'pdf'}", content,
                                              "image/png" if name == "png" else "application/pdf")})
    upload_s = time.perf_counter() - started
    if response.status_code != 302:
        found = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)', response.text)
        raise SystemExit(f"upload ({name}) answered {response.status_code}: {found or response.text[:500]}")
    after_upload = peaks(server)
    item_page = rep.get(f"{url}/i/{SKU}").text
    file_id = max(int(n) for n in re.findall(r'/files/(\d+)/preview', item_page))
    preview = rep.get(f"{url}/files/{file_id}/preview")
    if preview.status_code != 200 or preview.content[:3] != b"\xff\xd8\xff":
        raise SystemExit(f"no preview for {name}: {preview.status_code}")

    times = [download(rep, f"{url}/files/{file_id}", digest)[0] for _ in range(downloads)]
    shared = rep.post(f"{url}/files/{file_id}/share", headers={"Accept": "application/json"},
                      data={"csrf_token": csrf_token(item_page)})
    share_s = download(requests.Session(), shared.json()["url"], digest)[0]
    together, lock = [], threading.Lock()

    def one(session):
        elapsed = download(session, f"{url}/files/{file_id}", digest)[0]
        with lock:
            together.append(elapsed)

    threads = [threading.Thread(target=one, args=(session,)) for session in sessions[:workers]]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together_s = time.perf_counter() - started
    after = peaks(server)
    return {"resident": resident(server), "child_mb": child_peak_mb(content, "image" if name == "png" else "pdf"),
            "name": name, "size": len(content), "upload_s": upload_s, "times": times, "share_s": share_s,
            "together_s": together_s, "together": together, "before": before, "after_upload": after_upload,
            "after": after, "preview_bytes": len(preview.content)}


def rate(mib, seconds):
    value = mib / seconds
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}"


def report(database, result, workers):
    mb = result["size"] / 1024 / 1024
    times = result["times"]
    peak = max(result["after"].values())
    what = "40-megapixel PNG" if result["name"] == "png" else f"{result['name']} PDF"
    print(f"\n### {database}, {what} ({mb:.1f} MiB, preview {result['preview_bytes'] / 1024:.0f} KiB)\n")
    print("| step | seconds | MiB/s |")
    print("|---|---:|---:|")
    print(f"| upload (form, type check, preview, stored in chunks) | {result['upload_s']:.2f} | "
          f"{rate(mb, result['upload_s'])} |")
    print(f"| download, median of {len(times)} one after another | {statistics.median(times):.2f} | "
          f"{rate(mb, statistics.median(times))} |")
    print(f"| download, slowest of those | {max(times):.2f} | {rate(mb, max(times))} |")
    print(f"| download through a share link (no login) | {result['share_s']:.2f} | {rate(mb, result['share_s'])} |")
    print(f"| {workers} downloads at once, all done | {result['together_s']:.2f} | "
          f"{rate(workers * mb, result['together_s'])} in all |")
    pids = sorted(result["after"])
    print("\nPeak memory (VmHWM) per worker, MB: "
          + "; ".join(f"{pid}: {result['before'].get(pid, 0):.0f} → {result['after_upload'].get(pid, 0):.0f} "
                      f"(upload) → {result['after'][pid]:.0f} (downloads), {result['resident'].get(pid, 0):.0f} resident "
                      "at the end" for pid in pids))
    ok = peak < WORKER_MB
    print(f"Highest: {peak:.0f} MB (< {WORKER_MB} MB: {'met' if ok else 'MISSED'}). The preview's own process "
          f"(preview_process.py, not a worker) peaked at {result['child_mb']:.0f} MB.")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database to empty and use")
    parser.add_argument("--file", choices=["padded", "photo", "png", "all"], default="all")
    parser.add_argument("--downloads", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mb", type=int, default=50, help="the file's size: just under this many MiB")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-files-")
    url = normalize_database_url(args.database_url) if args.database_url else \
        "sqlite:///" + os.path.join(folder, "bench.sqlite3")
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"# Files benchmark: {database}, gunicorn with {args.workers} workers")
    print(machine())
    ok = True
    try:
        prepare(url, folder)
        server = Server(url, args.workers, folder)
        try:
            for name in (["padded", "photo", "png"] if args.file == "all" else [args.file]):
                content = flat_png() if name == "png" else \
                    big_pdf(args.mb * 1024 * 1024 - 16 * 1024, paint_image=name == "photo")
                ok = report(database, measure(server, name, content, args.downloads, args.workers), args.workers) \
                    and ok
        finally:
            server.stop()
    finally:
        if not url.startswith("sqlite"):
            empty(url)
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
