"""Writes a random llama2.c checkpoint (legacy version-0 header, float32, shared classifier) for timing `attnlab
record` on a model larger than the shared test models. Usage: synth_ckpt.py OUT.bin DIM HIDDEN LAYERS HEADS KV_HEADS
VOCAB SEQ_LEN. Weights are normal(0, 0.02), norms 1: the timing, not the text, is what it is for."""
import sys
import numpy as np


def main():
    out = sys.argv[1]
    dim, hidden, layers, heads, kv, vocab, seq = map(int, sys.argv[2:9])
    hs = dim // heads
    rng = np.random.default_rng(0)
    w = lambda *shape: rng.normal(0, 0.02, size=shape).astype(np.float32)
    with open(out, "wb") as f:
        f.write(np.array([dim, hidden, layers, heads, kv, vocab, seq], dtype=np.int32).tobytes())
        for a in (w(vocab, dim), np.ones((layers, dim), np.float32), w(layers, dim, dim), w(layers, kv * hs, dim),
                  w(layers, kv * hs, dim), w(layers, dim, dim), np.ones((layers, dim), np.float32),
                  w(layers, hidden, dim), w(layers, dim, hidden), w(layers, hidden, dim), np.ones(dim, np.float32),
                  np.zeros((2, seq, hs // 2), np.float32)):
            f.write(a.tobytes())


if __name__ == "__main__":
    main()
