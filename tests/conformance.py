"""Runs one group of the shared conformance suite (../shared/conformance) against this build.
Skips (exit 77, saying why) when ../shared is absent. Cases are made once into the build folder."""
import os, subprocess, sys

shared = os.path.abspath(os.environ.get("ATTNLAB_SHARED", "../shared"))
conf = os.path.join(shared, "conformance")
if not os.path.isfile(os.path.join(conf, "check.py")):
    print(f"SKIP: no conformance suite at {conf} (the shared folder is absent)")
    sys.exit(77)
group = sys.argv[1]
cases = os.path.join(os.environ.get("ATTNLAB_BUILD", "."), "conformance-cases")
lock = cases + ".done"
if not os.path.exists(lock):
    subprocess.run([sys.executable, os.path.join(conf, "cases.py"), cases], check=True)
    open(lock, "w").close()
env = dict(os.environ, ATTNLAB=os.environ["ATTNLAB"], CASES=cases)
sys.exit(subprocess.run([sys.executable, os.path.join(conf, "check.py"), group], env=env).returncode)
