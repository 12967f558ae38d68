"""GGUF reading: every tensor type attnlab dequantises (tuned and reference paths) against the `gguf`
package's dequantisation on random blocks; hand-built files that are corrupt, truncated (every prefix) or
of an unsupported version/type exit 2 naming the key or tensor."""
import os, struct, sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from alcli import bad, check, finish, run, tmpdir  # noqa: E402
import ggufkit as gk  # noqa: E402

gguf = gk.gguf_package()
from gguf.quants import dequantize  # noqa: E402

d = tmpdir()
rng = np.random.default_rng(16)
QT = gguf.GGMLQuantizationType
# byte offsets of the float16 scales inside each block, set to finite values so that results are meaningful
SCALES = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def random_tensor(name, rows, cols):
    qt = QT[name]
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    if name in ("F16", "BF16", "F32"):
        x = (rng.standard_normal((rows, cols)) * 3).astype(np.float32)
        raw = x.astype(np.float16).view(np.uint8) if name == "F16" else x.view(np.uint8)
        if name == "BF16":
            raw = (x.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
        return qt, raw.reshape(rows, -1)
    raw = rng.integers(0, 256, size=(rows, cols // bs, ts), dtype=np.uint8)
    for off in SCALES[name]:
        sc = (rng.standard_normal((rows, cols // bs)) * 0.05).astype(np.float16)
        raw[:, :, off:off + 2] = sc.view(np.uint8).reshape(rows, cols // bs, 2)
    return qt, raw.reshape(rows, -1)


# 1. dequantisation of every type: 3 x 512 elements of random blocks in one file
path = os.path.join(d, "types.gguf")
w = gguf.GGUFWriter(path, "llama")
types = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
want = {}
for t in types:
    qt, raw = random_tensor(t, 3, 512)
    want[t] = dequantize(raw, qt).astype(np.float32).reshape(3, 512)
    w.add_tensor(f"t.{t}", raw, raw_dtype=qt)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
rc, out, err = run("gguf", path)
check(rc == 0 and "tensor t.Q6_K Q6_K [512, 3]" in out, f"gguf lists the tensors: {rc} {err} {out[-300:]}")
for t in types:
    for ref in ([], ["--reference"]):
        o = os.path.join(d, f"{t}{len(ref)}.npy")
        rc, _, err = run("gguf", path, "--tensor", f"t.{t}", "-o", o, *ref)
        got = np.load(o) if rc == 0 else None
        check(got is not None and got.shape == (3, 512) and np.array_equal(got, want[t]),
              f"{t}{' reference' if ref else ''}: equal to gguf.quants.dequantize ({err.strip()}; max diff "
              f"{np.abs(got - want[t]).max() if got is not None else '-'})")

# 2. hand-built files: a valid one, then corrupt variants
good_kvs = [gk.kv_str("general.architecture", "llama"), gk.kv_u32("llama.block_count", 1)]
tens = [("a", [32, 2], 0, np.arange(64, dtype=np.float32).tobytes()), ("b", [32], 8, bytes(34))]
good = gk.build(good_kvs, tens)
gp = os.path.join(d, "good.gguf")
open(gp, "wb").write(good)
rc, out, err = run("gguf", gp)
check(rc == 0 and "tensor b Q8_0 [32]" in out and "llama.block_count = 1" in out, f"hand-built file reads: {err}")
rc, _, err = run("gguf", gp, "--tensor", "a", "-o", os.path.join(d, "a.npy"))
check(rc == 0 and np.array_equal(np.load(os.path.join(d, "a.npy")), np.arange(64, dtype=np.float32).reshape(2, 32)), "F32 tensor values")


def corrupt(name, blob, needle):
    p = os.path.join(d, name + ".gguf")
    open(p, "wb").write(blob)
    bad(["gguf", p], name, needle)


corrupt("bad magic", b"GGUX" + good[4:], "magic")
corrupt("version 1", good[:4] + struct.pack("<I", 1) + good[8:], "version 1")
corrupt("version 4", good[:4] + struct.pack("<I", 4) + good[8:], "version 4")
corrupt("huge tensor count", good[:8] + struct.pack("<Q", 1 << 60) + good[16:], "count")
corrupt("unknown tensor type", gk.build(good_kvs, [("q2k", [256], 10, bytes(84))]), "tensor q2k")
corrupt("row not whole blocks", gk.build(good_kvs, [("odd", [16], 8, bytes(34))]), "tensor odd")
corrupt("five dimensions", gk.build(good_kvs, [("five", [1, 1, 1, 1, 1], 0, bytes(4))]), "tensor five")
corrupt("zero dimension", gk.build(good_kvs, [("zero", [32, 0], 0, b"")]), "tensor zero")
corrupt("duplicate tensor", gk.build(good_kvs, [("dup", [8], 0, bytes(32)), ("dup", [8], 0, bytes(32))]), "twice")
corrupt("unknown value type", gk.build([gk.kv("x.y", 13, b"")], tens), "x.y")
corrupt("string past the end", gk.build([gk.kv("x.s", 8, struct.pack("<Q", 1 << 40))], []), "x.s")
corrupt("array past the end", gk.build([gk.kv("x.a", 9, struct.pack("<IQ", 6, 1 << 50))], []), "x.a")
corrupt("bad alignment", gk.build([gk.kv_u32("general.alignment", 24)], tens), "general.alignment")
big = gk.build(good_kvs, [("far", [1 << 20], 0, bytes(64))])
corrupt("data past the end", big, "tensor far")
mis = bytearray(good)
pos = mis.find(b"\x01\x00\x00\x00\x00\x00\x00\x00b") + 9  # tensor "b": name, n_dims, ne[0], type, offset
struct.pack_into("<Q", mis, pos + 4 + 8 + 4, 8)
corrupt("misaligned offset", bytes(mis), "tensor b")
# every truncation of the valid file exits 2 (never a crash, never a read past the end)
fails = [n for n in range(0, len(good), 7) if run("gguf", os.path.join(d, f"cut{n}.gguf"))[0] != 2
         if open(os.path.join(d, f"cut{n}.gguf"), "wb").write(good[:n]) is not None]
check(not fails, f"every truncation exits 2: failing cuts {fails[:8]}")
bad(["gguf", os.path.join(d, "missing.gguf")], "missing file", "cannot open")
bad(["gguf", gp, "--tensor", "nope", "-o", os.path.join(d, "n.npy")], "no such tensor", "nope")
finish("test_gguf")
