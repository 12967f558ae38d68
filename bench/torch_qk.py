"""PyTorch baselines for the q/k statistics on the GPU, per head (causal, head_dim 128, bf16 q and k):
- eager: materialise softmax(q k^T * scale) of the whole head, then column sums (alpha) and row entropies;
- compiled: what a competent user writes: query blocks of B rows (B = 1024, 2048, 4096) against all visible keys,
  float32 softmax, column sums and entropies accumulated, the block step under torch.compile (the best B counts).
Also measures the bf16 matrix rate (8192^3 product on random data). Prints one line per case: ms per head.
Usage: torch_qk.py T [T ...]"""
import sys
import torch

D, HEADS = 128, 8


def mm_rate():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(10):
        a @ b
    e.record(); torch.cuda.synchronize()
    return 10 * 2 * 8192 ** 3 / (s.elapsed_time(e) * 1e-3) / 1e12


def head_stats(q, k, mask, scale):
    s = (q @ k.T) * scale                           # [T, T] bf16: the materialised logits
    s.masked_fill_(mask, float("-inf"))
    p = torch.softmax(s.float(), dim=-1)            # float32 probabilities
    colsum = p.sum(0)                               # alpha numerators
    ent = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)
    return colsum, ent


def block_step(qb, kv, r0, scale):
    """rows r0.. of one head (qb [B, D]) against its visible keys kv [r0 + B, D]: column sums and entropies"""
    s = (qb @ kv.T).float() * scale
    i = torch.arange(qb.shape[0], device=qb.device)[:, None] + r0
    j = torch.arange(kv.shape[0], device=qb.device)[None, :]
    p = torch.softmax(s.masked_fill(j > i, float("-inf")), dim=-1)
    return p.sum(0), -(p * torch.log(p.clamp_min(1e-30))).sum(-1)


def blocked_stats(step, q, k, scale, B):
    T = q.shape[0]
    colsum = torch.zeros(T, device=q.device, dtype=torch.float32)
    ent = torch.empty(T, device=q.device, dtype=torch.float32)
    for r0 in range(0, T, B):
        r1 = min(r0 + B, T)
        c, h = step(q[r0:r1], k[:r1], r0, scale)
        colsum[:r1] += c
        ent[r0:r1] = h
    return colsum, ent


def timed(fn, heads):
    fn(0)  # warm-up (and compilation)
    torch.cuda.synchronize()
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for h in range(heads):
        fn(h)
    e.record(); torch.cuda.synchronize()
    return s.elapsed_time(e) / heads


def main():
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    print(f"bf16 matrix rate (8192^3, random data): {mm_rate():.0f} TFLOP/s")
    step = torch.compile(block_step, dynamic=True)
    for T in map(int, sys.argv[1:]):
        q = torch.randn(HEADS, T, D, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(HEADS, T, D, device="cuda", dtype=torch.bfloat16)
        torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
        try:
            mask = torch.ones(T, T, device="cuda", dtype=torch.bool).triu_(1)
            ms = timed(lambda h: head_stats(q[h], k[h], mask, D ** -0.5), HEADS)
            print(f"T={T}: eager {ms:.2f} ms per head, peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
        except torch.OutOfMemoryError:
            print(f"T={T}: eager out of memory (peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB before failing)")
        mask = None
        torch.cuda.empty_cache()
        best = None
        for B in (1024, 2048, 4096):
            torch.cuda.reset_peak_memory_stats()
            ms = timed(lambda h: blocked_stats(step, q[h], k[h], D ** -0.5, B), HEADS)
            print(f"T={T}: compiled B={B} {ms:.2f} ms per head, peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
            best = ms if best is None or ms < best else best
        print(f"T={T}: compiled best {best:.2f} ms per head")


if __name__ == "__main__":
    main()
