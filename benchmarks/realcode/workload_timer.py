"""Run by path in a child interpreter: time one workload script's `workload()`.

`python workload_timer.py WORKLOAD.py REPEATS` imports the workload (its import
of the package is not timed), runs it once to warm up, then REPEATS times, and
prints one JSON line: the seconds of each timed run and a digest of the result,
so that the parent can tell whether the rewritten package still computes the
same thing. It imports nothing from this project: PYTHONPATH holds only the
package under test.
"""

import hashlib
import json
import runpy
import sys
import time


def main() -> None:
    del sys.path[0]  # this directory: its modules must not stand in for the package's imports
    script, repeats = sys.argv[1], int(sys.argv[2])
    workload = runpy.run_path(script)["workload"]
    result = workload()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        workload()
        seconds.append(time.perf_counter() - started)
    digest = hashlib.sha256(repr(result).encode("utf-8", "backslashreplace")).hexdigest()
    print(json.dumps({"seconds": seconds, "digest": digest}))


if __name__ == "__main__":
    main()
