"""`make bench`: every benchmark of the project, one table (figure, target, measured, pass)."""

from __future__ import annotations

import platform
import sys
import time
import warnings

from bench import baseline, broadcast, catalog, load, menu, notify, payments, shop, taps, tracker

BENCHMARKS = (catalog, menu, shop, tracker, notify, broadcast, load, payments, baseline, taps)


def main(argv: list[str] | None = None) -> None:
    """`python -m bench` runs every benchmark; `python -m bench tracker load` a selection."""
    warnings.simplefilter("ignore")
    names = sys.argv[1:] if argv is None else argv
    known = {module.__name__.removeprefix("bench."): module for module in BENCHMARKS}
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}")
    selected = [known[name] for name in names] or list(BENCHMARKS)
    started = time.time()
    rows = []
    for module in selected:
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
