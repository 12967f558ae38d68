"""GGUF helpers for the model tests: the cached venv with the `gguf` package (its writer and its reference
dequantisation, imported into Debian's Python), a tiny GGUF writer of our own for corrupt files, and the
SmolLM2 model fetched on demand. Tests skip (exit 77), saying why, when something cannot be had."""
import glob, os, struct, subprocess, sys

CACHE = os.path.expanduser(os.environ.get("ATTNLAB_CACHE", "~/.cache/attnlab"))
GGUF_VENV = os.path.join(CACHE, "gguf-venv")
GGUF_PIN = "gguf==0.19.0"
SRC = os.environ.get("ATTNLAB_SRC", ".")


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def gguf_package():
    """The `gguf` package from the cached venv (built on first use: one small pure-Python wheel)."""
    if not os.path.isdir(GGUF_VENV):
        try:
            subprocess.run([sys.executable, "-m", "venv", GGUF_VENV], check=True, capture_output=True, timeout=120)
            subprocess.run([os.path.join(GGUF_VENV, "bin", "pip"), "install", "-q", GGUF_PIN, "numpy"], check=True,
                           capture_output=True, timeout=300)
        except (subprocess.SubprocessError, OSError) as ex:
            subprocess.run(["rm", "-rf", GGUF_VENV])
            skip(f"the gguf package cannot be installed into {GGUF_VENV} (PyPI unreachable?): {ex}")
    site = glob.glob(os.path.join(GGUF_VENV, "lib", "python3*", "site-packages"))
    sys.path.extend(site)
    try:
        import gguf  # noqa: F401
        import gguf.quants  # noqa: F401
    except ImportError as ex:
        skip(f"the gguf package in {GGUF_VENV} does not import: {ex}")
    return sys.modules["gguf"]


def smollm2():
    """Path of SmolLM2-135M-Instruct Q4_1, fetched by tools/fetch_models.py when missing (or skip)."""
    p = subprocess.run([sys.executable, os.path.join(SRC, "tools", "fetch_models.py"), "smollm2-135m"], capture_output=True,
                       text=True, timeout=900)
    if p.returncode != 0:
        skip(f"SmolLM2-135M cannot be fetched: {p.stderr.strip()[-300:]}")
    return p.stdout.strip()


def llamacpp_python():
    """Python of the cached llama-cpp-python venv (tools/llamacpp_venv.sh), or skip: building it takes minutes."""
    py = os.path.join(CACHE, "llamacpp-venv", "bin", "python")
    if not os.path.isfile(py):
        skip(f"llama-cpp-python is not built in {os.path.dirname(os.path.dirname(py))} (tools/llamacpp_venv.sh builds it, "
             "about 7 minutes)")
    return py


def rewrite(src, dst, overrides=None, f32=False):
    """A copy of the GGUF file src with metadata values replaced (overrides: key -> value): without tensors, or
    (f32) with every tensor dequantised to float32 by the gguf package and general.file_type 0."""
    gguf = gguf_package()
    from gguf.quants import dequantize
    import numpy as np
    overrides = dict(overrides or {}, **({"general.file_type": 0} if f32 else {}))
    r = gguf.GGUFReader(src)
    w = gguf.GGUFWriter(dst, r.fields["general.architecture"].contents())
    for k, f in r.fields.items():
        if k.startswith("GGUF.") or k == "general.architecture":
            continue
        vt = f.types[0]
        w.add_key_value(k, overrides.get(k, f.contents()), vt, sub_type=f.types[-1] if vt == gguf.GGUFValueType.ARRAY else None)
    for t in r.tensors if f32 else []:
        a = dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, a.reshape([int(x) for x in reversed(t.shape)]) if len(t.shape) > 1 else a.reshape(-1))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    if f32:
        w.write_tensors_to_file()
    w.close()
    return dst


# ---- a minimal GGUF writer (little-endian, version 3) for hand-built and corrupt files ----

def s_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return s_str(key) + struct.pack("<I", vtype) + payload


def kv_u32(key, v):
    return kv(key, 4, struct.pack("<I", v))


def kv_f32(key, v):
    return kv(key, 6, struct.pack("<f", v))


def kv_str(key, v):
    return kv(key, 8, s_str(v))


def kv_bool(key, v):
    return kv(key, 7, struct.pack("<B", 1 if v else 0))


def kv_arr_str(key, vals):
    return kv(key, 9, struct.pack("<IQ", 8, len(vals)) + b"".join(s_str(v) for v in vals))


def kv_arr_f32(key, vals):
    return kv(key, 9, struct.pack("<IQ", 6, len(vals)) + struct.pack(f"<{len(vals)}f", *vals))


def kv_arr_i32(key, vals):
    return kv(key, 9, struct.pack("<IQ", 5, len(vals)) + struct.pack(f"<{len(vals)}i", *vals))


def tinfo(name, shape, ttype, offset):
    return s_str(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", d) for d in shape) + struct.pack("<IQ", ttype, offset)


def build(kvs, tensors, version=3, align=32):
    """tensors: list of (name, shape, ggml type, raw bytes). Returns the file's bytes."""
    head = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kvs)) + b"".join(kvs)
    infos, data, off = b"", b"", 0
    for name, shape, tt, raw in tensors:
        pad = (-off) % align
        data += b"\0" * pad
        off += pad
        infos += tinfo(name, shape, tt, off)
        data += raw
        off += len(raw)
    body = head + infos
    return body + b"\0" * ((-len(body)) % align) + data
