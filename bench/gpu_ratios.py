"""Reads cuda_bench's and torch_qk.py's outputs of one run and prints each GPU figure against its bound: map
statistics against the measured copy bandwidth, q/k statistics against the measured bf16 matrix rate, and the
speed-up over PyTorch eager and over the blocked torch.compile baseline. Usage: gpu_ratios.py CUDA_BENCH TORCH"""
import re
import sys


def main():
    cb, tq = open(sys.argv[1]).read(), open(sys.argv[2]).read()
    copy = float(re.search(r"device copy .*: ([\d.]+) GB/s", cb).group(1))
    mm = float(re.search(r"bf16 matrix rate .*: ([\d.]+) TFLOP/s", tq).group(1))
    print(f"bounds: device copy {copy:.0f} GB/s, bf16 matrix rate {mm:.0f} TFLOP/s (both measured in this run)")
    for name, target in (("float32", 70), ("float16", 50), ("bfloat16", 50)):
        m = re.search(rf"^{name}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", cb, re.M)
        if m:
            print(f"map statistics {name:8s}: {float(m.group(3)):.0f} GB/s read = {100 * float(m.group(3)) / copy:.0f}% of copy bandwidth (target {target}%)")
    for m in re.finditer(r"^(\d+)\s+bfloat16\s+([\d.]+)\s+([\d.]+)", cb, re.M):
        T, ms, tf = int(m.group(1)), float(m.group(2)), float(m.group(3))
        line = f"q/k statistics T={T} bf16: {ms:.3f} ms/head, {tf:.0f} TFLOP/s = {100 * tf / mm:.0f}% of the matrix rate (target 40%)"
        e = re.search(rf"T={T}: eager ([\d.]+) ms", tq)
        c = re.search(rf"T={T}: compiled best ([\d.]+) ms", tq)
        if e:
            line += f"; {float(e.group(1)) / ms:.1f}x PyTorch eager"
        if c:
            line += f"; {float(c.group(1)) / ms:.1f}x torch.compile blocked"
        print(line)


if __name__ == "__main__":
    main()
