"""Fails (exit 1) on an include that crosses the layers the wrong way, or on a cycle between source files: a file-level #include cycle, or a call cycle (file A calls a
function defined in file B and B, directly or through others, calls A), read from the objects' symbol tables.
Usage: cycles.py SRC [BUILD]  (BUILD: a build folder whose object files give the calls; without it, includes only).
tools/cycles.allow lists the call cycles that existed when this check came (docs/architecture.md: to be broken,
never to grow); any other cycle, or one of those grown, fails."""
import glob, os, re, subprocess, sys

src = os.path.abspath(sys.argv[1])
build = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
dirs = ["core", "metrics", "analyses", "datasets", "plots", "experiments", "include", "model", "program", "runner",
        "cli"]


def sccs(graph):
    """Tarjan's strongly connected components of size > 1 (or with a self loop)."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    sys.setrecursionlimit(100000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


files = [f for d in dirs for f in glob.glob(f"{src}/{d}/**/*.[ch]", recursive=True)]
inc = {}
for f in files:
    here = os.path.dirname(f)
    for name in re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(f, errors="replace").read(), re.M):
        for base in (here, f"{src}/include", src):
            p = os.path.normpath(os.path.join(base, name))
            if os.path.isfile(p):
                inc.setdefault(os.path.relpath(f, src), set()).add(os.path.relpath(p, src))
                break
bad = [("include", c) for c in sccs(inc)]

# arrows between folders that must never exist (docs/architecture.md): a lower layer never includes a higher one
never = {
    "include": {"core", "metrics", "datasets", "plots", "analyses", "experiments", "model"},
    "core": {"metrics", "datasets", "plots", "analyses", "experiments", "model"},
    "metrics": {"datasets", "plots", "analyses", "experiments", "model"},
    "plots": {"metrics", "datasets", "analyses", "experiments", "model"},
    "datasets": {"analyses", "plots", "experiments"},
    "analyses": {"experiments"},
    "model": {"analyses", "experiments"},
}
for f, targets in sorted(inc.items()):
    for t in sorted(targets):
        a, b = f.split("/")[0], t.split("/")[0]
        if b in never.get(a, ()):
            bad.append(("layer", [f, t]))

if build:
    defs, uses = {}, {}
    for o in glob.glob(f"{build}/CMakeFiles/*.dir/**/*.o", recursive=True):
        rel = os.path.relpath(o, build).split(".dir/", 1)[1][: -len(".o")]
        if not os.path.isfile(os.path.join(src, rel)) or rel.startswith("tests/"):
            continue
        nm = subprocess.run(["nm", o], capture_output=True, text=True).stdout
        for line in nm.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defs[parts[2]] = rel
            elif len(parts) == 2 and parts[0] == "U":
                uses.setdefault(rel, set()).add(parts[1])
    calls = {f: {defs[s] for s in syms if s in defs and defs[s] != f} for f, syms in uses.items()}
    bad += [("call", c) for c in sccs(calls)]

allow_file = os.path.join(src, "tools", "cycles.allow")
allowed = {l.strip() for l in open(allow_file) if l.strip() and not l.startswith("#")} if os.path.isfile(allow_file) else set()
new = [(k, c) for k, c in bad if f"{k}: " + " -> ".join(c) not in allowed]
for kind, c in bad:
    known = (kind, c) not in new
    what = "forbidden include" if kind == "layer" else f"cycle ({kind}{', known' if known else ''})"
    print(f"{what}: " + " -> ".join(c))
print(f"cycles.py: {len(new)} new cycle(s), {len(bad) - len(new)} known, among {len(files)} files" +
      ("" if build else " (includes only)"))
sys.exit(1 if new else 0)
