#!/usr/bin/env python3
"""Kept for old command lines: runs `python -m attnlab.record` (python/attnlab/record_cli.py), which records a
Hugging Face transformers causal LM into format v1 with the model's own attention (SDPA, flash) left on.
Differences from the former eager recorder: --what defaults to q,k,hidden,logits (add `attention` for maps,
computed from q and k), and errors read `attnlab: error: ...`. See docs/record.md."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from attnlab.record_cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
