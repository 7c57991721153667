"""Runs a benchmark script under the CPython its comparison names (3.13 or newer).

The `python3` on PATH may be older (3.11 on the development machine): `ensure(script)` re-runs the
calling script with a 3.13+ interpreter found as shared/conformance/vloop.py finds one (python3.14 or
python3.13 on PATH, or a pyenv version), and exits with a message if there is none.
Imported by bench/threading_cpython.py and bench/multiprocessing_cpython.py (the script's folder is
on sys.path).
"""
import os
import shutil
import subprocess
import sys

MINIMUM = (3, 13)
_FLAG = "TSAIO_BENCH_PY_REEXEC"


def _candidates():
    found = [name for name in ("python3.14", "python3.13") if shutil.which(name)]
    try:
        bare = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for v in bare:
            parts = v.split(".")
            if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit() and int(parts[1]) >= MINIMUM[1]:
                prefix = subprocess.run(["pyenv", "prefix", v], capture_output=True, text=True).stdout.strip()
                if prefix:
                    found.append(os.path.join(prefix, "bin", "python3"))
    except OSError:
        pass
    return found


def ensure(script):
    """Returns if this interpreter is new enough; otherwise replaces the process with one that is."""
    if sys.version_info >= MINIMUM or os.environ.get(_FLAG):
        return
    for exe in _candidates():
        env = dict(os.environ, **{_FLAG: "1"})
        probe = subprocess.run([exe, "-c", "import sys; print(sys.version_info >= %r)" % (MINIMUM,)],
                               capture_output=True, text=True, env=env)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            sys.stdout.flush()
            os.execvpe(exe, [exe, os.path.abspath(script)] + sys.argv[1:], env)
    sys.exit("%s needs CPython %d.%d or newer; none was found" % ((os.path.basename(script),) + MINIMUM))
