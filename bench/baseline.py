"""The numpy + h5py script a researcher writes today, the baseline attnlab is measured against.

Usage: baseline.py maps FILE.h5 T     sinks (alpha, sink rate) + heads (entropy, first, self, prev, distance,
                                      distant mass) over every layer, loading one layer at a time
       baseline.py qk FILE.h5 T       the same statistics from q and k: softmax(q k^T / sqrt(D)) per head
Prints the seconds spent (reading included) on stdout.
"""
import sys, time
import numpy as np
import h5py


def stats(att):  # att [N, H, T, T] float32, causal
    T = att.shape[-1]
    alpha = att.sum(-2) / np.arange(T, 0, -1)
    sink = (alpha[..., :10] > 0.3).mean((0, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(att > 0, att * np.log(att), 0).sum(-1).mean(-1)
    i = np.arange(T)[:, None]; j = np.arange(T)[None, :]
    first = att[..., 0].mean(-1)
    self_ = np.diagonal(att, axis1=-2, axis2=-1).mean(-1)
    prev = np.diagonal(att, offset=-1, axis1=-2, axis2=-1).mean(-1)
    dist = (att * np.abs(i - j)).sum(-1).mean(-1)
    far = ((j >= 4) & (j <= i - 64))
    distant = (att * far).sum(-1).mean(-1)
    return alpha, sink, ent, first, self_, prev, dist, distant


def main():
    mode, path, T = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t0 = time.perf_counter()
    with h5py.File(path) as f:
        L = int(f.attrs["n_layers"])
        for l in range(L):
            if mode == "maps":
                att = f[f"attention/L{l:03d}"][:, :, :T, :T].astype(np.float32)
            else:
                q = f[f"q/L{l:03d}"][:, :, :T].astype(np.float32)
                k = f[f"k/L{l:03d}"][:, :, :T].astype(np.float32)
                k = np.repeat(k, q.shape[1] // k.shape[1], axis=1)
                s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
                s = np.where(np.tri(T, dtype=bool), s, -np.inf)
                s -= s.max(-1, keepdims=True)
                att = np.exp(s)
                att /= att.sum(-1, keepdims=True)
            stats(att)
            del att
    print(f"{time.perf_counter() - t0:.3f}")


if __name__ == "__main__":
    main()
