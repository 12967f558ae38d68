"""Single-byte flips of valid inputs (docs/reliability.md, "Corrupt files"): a recording stored contiguously,
one stored as gzip chunks, and a .npy dump, each with one byte XORed, given to `sinks` and `heads`. Every run
must end with exit 0 or 2 (never a signal, never exit 1), within 60 s, and an exit 2 with one error line naming
the file. Half the flips hit HDF5 metadata (bytes outside every dataset's data), half any byte.

    /usr/bin/python3 tests/cli/test_flips.py            # the deterministic sample make check runs (seconds)
    /usr/bin/python3 tests/cli/test_flips.py --full     # 1000 flips of each recording and 200 of the .npy
    ... --full --jobs 4                                 # several runs at a time

The sample lowers ATTNLAB_OPEN_TIMEOUT to 3 s so that a flip making HDF5 loop costs little CI time; --full
keeps the default limit, as a user would have it."""
import os, random, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import h5py
from alcli import *

FULL = "--full" in sys.argv
JOBS = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 1
COUNTS = {"plain.h5": 1000, "gzip.h5": 1000, "maps.npy": 200} if FULL else {"plain.h5": 16, "gzip.h5": 16, "maps.npy": 6}
LIMIT = 60.0
env = dict(os.environ)
if not FULL:
    env["ATTNLAB_OPEN_TIMEOUT"] = "3"

d = tmpdir()
rc, _, err = run("synth", "maps", "-o", f"{d}/plain.h5", "--samples", "1", "--layers", "2", "--heads", "2", "--tokens", "32", "-q")
check(rc == 0, f"synth plain: {err}")
rc, _, err = run("synth", "maps", "-o", f"{d}/gzip.h5", "--samples", "1", "--layers", "2", "--heads", "2", "--tokens", "32",
                 "--dtype", "f16", "-q")
check(rc == 0, f"synth gzip: {err}")
np.save(f"{d}/maps.npy", softmax_maps(np.random.default_rng(3), 1, 2, 2, 16)[0])


def data_ranges(path):
    """Byte ranges holding dataset data (contiguous extents and every chunk); the rest is metadata."""
    out = []
    if path.endswith(".npy"):
        return out
    with h5py.File(path, "r") as f:
        def visit(name, o):
            if not isinstance(o, h5py.Dataset):
                return
            if o.chunks is None:
                off = o.id.get_offset()
                if off is not None:
                    out.append((off, off + o.id.get_storage_size()))
            else:
                for i in range(o.id.get_num_chunks()):
                    c = o.id.get_chunk_info(i)
                    out.append((c.byte_offset, c.byte_offset + c.size))
        f.visititems(visit)
    return out


def offsets(path, n, seed):
    size = os.path.getsize(path)
    data = np.zeros(size, bool)
    for a, b in data_ranges(path):
        data[a:b] = True
    meta = np.flatnonzero(~data)
    rng = random.Random(seed)
    return [(int(meta[rng.randrange(len(meta))]) if i % 2 == 0 and len(meta) else rng.randrange(size), rng.randrange(1, 256))
            for i in range(n)]


def one(src, k, off, x):
    """Flip byte off of src by x; run sinks and heads; return a list of (what, problem) and the messages."""
    raw = bytearray(open(src, "rb").read())
    raw[off] ^= x
    p = f"{d}/flip{k}{os.path.splitext(src)[1]}"
    open(p, "wb").write(raw)
    problems, msgs = [], []
    for cmd in ("sinks", "heads"):
        t = time.monotonic()
        try:
            r = subprocess.run([A, cmd, p, "--tokens", "8", "-q", "--format", "json"], capture_output=True, text=True, errors="replace",
                               timeout=LIMIT + 30, env=env)
            rc, e = r.returncode, r.stderr
        except subprocess.TimeoutExpired:
            rc, e = "timeout", ""
        dt = time.monotonic() - t
        what = f"{os.path.basename(src)} byte {off} ^ {x:#04x} / {cmd}"
        if rc not in (0, 2):
            problems.append(f"{what}: exit {rc} ({e.strip()[:160]})")
        elif dt > LIMIT:
            problems.append(f"{what}: took {dt:.1f} s")
        elif rc == 2:
            lines = e.strip().splitlines()
            if len(lines) != 1 or not lines[0].startswith(f"attnlab: error: {p}"):
                problems.append(f"{what}: stderr is not one error line naming the file: {e!r}")
            msgs.append(e)
    os.unlink(p)
    return problems, msgs


t0 = time.monotonic()
jobs = []
for i, (name, n) in enumerate(COUNTS.items()):
    src = f"{d}/{name}"
    jobs += [(src, f"{i}_{j}", off, x) for j, (off, x) in enumerate(offsets(src, n, 1000 + i))]
stats = {}
with ThreadPoolExecutor(JOBS) as ex:
    for problems, msgs in ex.map(lambda a: one(*a), jobs):
        for p in problems:
            check(False, p)
        check(not problems, "flip")
        for m in msgs:
            key = "crash" if "crashed" in m else "hang" if "did not finish" in m else "other"
            stats[key] = stats.get(key, 0) + 1
print(f"{len(jobs)} flipped files, {2 * len(jobs)} runs in {time.monotonic() - t0:.0f} s; exit-2 messages: {stats}")
shutil.rmtree(d)
finish("test_flips")
