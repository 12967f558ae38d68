"""Format v1 writer (spec/RECORDING.md) shared by attnlab.record and attnlab.convert.

The file is written under a temporary name beside the target and renamed when complete, so a failed or interrupted
run leaves nothing behind. Float datasets are created up front and filled as tensors arrive (one layer at a time),
stored as float16 (gzip), bfloat16 (uint16 with attribute dtype = "bfloat16") or float32. Errors are AttnlabError,
whose text is the line attnlab's command line prints: `attnlab: error: FILE[:DATASET]: reason`.
Needs numpy and h5py only (no torch).
"""
import os

import numpy as np

STORAGE = {"float16": "float16", "f16": "float16", "bfloat16": "bfloat16", "bf16": "bfloat16", "float32": "float32",
           "f32": "float32"}


class AttnlabError(ValueError):
    """Bad input or an unsupported model: the same text as the command line's error line."""

    def __init__(self, file, reason, dataset=None):
        self.file, self.dataset, self.reason = str(file), dataset, reason
        where = self.file if dataset is None else f"{self.file}:{dataset}"
        super().__init__(f"attnlab: error: {where}: {reason}")


def storage_dtype(name, file):
    """Canonical storage type name for float16/f16, bfloat16/bf16, float32/f32."""
    if name not in STORAGE:
        raise AttnlabError(file, f"dtype '{name}' is not one of float16, bfloat16, float32")
    return STORAGE[name]


def to_bf16(x):
    """float32 -> bfloat16 bits (uint16), rounded to nearest even; x must be finite."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(u):
    """bfloat16 bits (uint16) -> float32."""
    return (np.asarray(u).astype(np.uint32) << 16).view(np.float32)


def layer_name(group, layer):
    return f"{group}/L{layer:03d}"


class Writer:
    """One recording being written: create() datasets, put() rows, finish() renames, abort() removes."""

    def __init__(self, path, dtype):
        import h5py
        self.path = os.fspath(path)
        self.dtype = storage_dtype(dtype, self.path)
        self.tmp = f"{self.path}.tmp-{os.getpid()}"
        try:
            self.f = h5py.File(self.tmp, "w")
        except OSError as ex:
            raise AttnlabError(self.path, f"cannot create the file ({ex})") from None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.finish()
        else:
            self.abort()
        return False

    def attrs(self, **kw):
        self.f.attrs.update(kw)

    def create(self, name, shape, rows_per_chunk=64, fill=None):
        """A float dataset [..., rows, cols] chunked by rows of one head/sample; fill: value of rows never put."""
        shape = tuple(int(s) for s in shape)
        chunks = (1,) * (len(shape) - 2) + (max(1, min(shape[-2], rows_per_chunk)), max(1, shape[-1]))
        kw = dict(chunks=chunks)
        if self.dtype == "float16":
            kw.update(compression="gzip", compression_opts=1, shuffle=True)
        if fill is not None:
            kw["fillvalue"] = to_bf16(np.float32(fill)) if self.dtype == "bfloat16" else fill
        t = {"float16": np.float16, "bfloat16": np.uint16, "float32": np.float32}[self.dtype]
        d = self.f.create_dataset(name, shape=shape, dtype=t, **kw)
        if self.dtype == "bfloat16":
            d.attrs["dtype"] = "bfloat16"
        return d

    def put(self, name, index, x):
        """Stores x (float array) at index of dataset name, converted to the storage type."""
        x = np.asarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            raise AttnlabError(self.path, "non-finite values (NaN or infinity)", name)
        if self.dtype == "float16":
            with np.errstate(over="ignore"):
                y = x.astype(np.float16)
            if not np.isfinite(y).all():
                raise AttnlabError(self.path, f"a value of magnitude {np.abs(x).max():.4g} overflows float16: "
                                   "store bfloat16 or float32", name)
        elif self.dtype == "bfloat16":
            y = to_bf16(x)
        else:
            y = x
        self.f[name][index] = y

    def data(self, name, array, **kw):
        """A small dataset written whole (tokens, lengths, spans)."""
        return self.f.create_dataset(name, data=array, **kw)

    def strings(self, name, rows):
        """A [N, T] variable-length UTF-8 string dataset."""
        import h5py
        sdt = h5py.string_dtype("utf-8")
        return self.f.create_dataset(name, data=np.array(rows, dtype=object), dtype=sdt)

    def finish(self):
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        try:
            self.f.close()
        except Exception:
            pass
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)
