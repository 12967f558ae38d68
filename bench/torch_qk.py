"""PyTorch eager baseline for the q/k statistics on the GPU: materialise softmax(q k^T * scale) per head under
the causal mask and take the same statistics (column sums for alpha, row entropy). Also measures the bf16
matrix rate (8192^3 product on random data). Prints one line per size: ms per head and peak memory.
Usage: torch_qk.py T [T ...]"""
import sys, time
import torch

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

def main():
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    print(f"bf16 matrix rate (8192^3, random data): {mm_rate():.0f} TFLOP/s")
    D, heads = 128, 8
    for T in map(int, sys.argv[1:]):
        torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
        try:
            q = torch.randn(heads, T, D, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(heads, T, D, device="cuda", dtype=torch.bfloat16)
            mask = torch.ones(T, T, device="cuda", dtype=torch.bool).triu_(1)
            head_stats(q[0], k[0], mask, D ** -0.5)      # warm-up
            torch.cuda.synchronize()
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for h in range(heads):
                head_stats(q[h], k[h], mask, D ** -0.5)
            e.record(); torch.cuda.synchronize()
            ms = s.elapsed_time(e) / heads
            print(f"T={T}: {ms:.2f} ms per head, peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
        except torch.OutOfMemoryError:
            print(f"T={T}: out of memory (peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB before failing)")
        finally:
            q = k = mask = None

if __name__ == "__main__":
    main()
