"""attnlab: analyse transformer attention from Python (this part: the recorder, the converters and the format-v1
writer, pure Python on numpy and h5py; torch and transformers only where a model is recorded).

attnlab.record(model, input_ids, path, ...) records a transformers model (attnlab/record.py; also
`python -m attnlab.record`), attnlab.convert writes TransformerLens caches, Hugging Face outputs and saved dicts
as format v1. Submodules load on first use, so `import attnlab` needs neither torch nor transformers.
"""
import importlib

from ._v1 import AttnlabError

__all__ = ["AttnlabError", "record", "convert"]


def __getattr__(name):
    if name in ("record", "convert"):  # attnlab.record is a callable module: attnlab.record(model, ids, path)
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'attnlab' has no attribute '{name}'")
