"""`make bench`: every benchmark of the project, one table (figure, target, measured, pass)."""

from __future__ import annotations

import platform
import sys
import time
import warnings

from bench import catalog, load, menu, notify, tracker

BENCHMARKS = (catalog, menu, tracker, notify, load)


def main() -> None:
    warnings.simplefilter("ignore")
    started = time.time()
    rows = []
    for module in BENCHMARKS:
        print(f"running {module.__name__} …", file=sys.stderr, flush=True)
        rows += module.run()
    width = max(len(row[0]) for row in rows)
    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {time.strftime('%Y-%m-%d')}, "
        f"{time.time() - started:.0f} s in all\n"
    )
    print(f"| {'figure':<{width}} | target | measured | pass |")
    print(f"|{'-' * (width + 2)}|--------|----------|------|")
    for figure, target, measured, passed in rows:
        print(f"| {figure:<{width}} | {target} | {measured} | {'yes' if passed else 'NO'} |")
    sys.exit(0 if all(row[3] for row in rows) else 1)


if __name__ == "__main__":
    main()
