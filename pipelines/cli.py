"""The `hub` command: `hub run` and `hub demo`.

Imports stay inside the commands so `hub --help` answers at once (Dagster and Great Expectations
take seconds to import).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from pipelines.config import ConfigError
    from pipelines.runner import format_plan, format_summary, plan_from_sources, run
    from pipelines.settings import mask_target, sources_path, warehouse_target
    from warehouse.connection import WarehouseError

    sources = Path(args.sources) if args.sources else sources_path()
    target = args.warehouse or warehouse_target()
    if not sources.is_file() and not args.sources and "HUB_SOURCES" not in __import__("os").environ:
        print(f"error: no sources file at {sources}: run `hub demo` first, or set HUB_SOURCES", file=sys.stderr)
        return 2
    print(f"sources: {sources}\nwarehouse: {mask_target(target)}")
    try:
        if getattr(args, "plan", False):
            print(format_plan(*plan_from_sources(sources, target, everything=args.all)))
            return 0
        # Without -v the summary below reports every failure in one line each; Dagster's console
        # log would print each failing step's traceback first.
        summary = run(sources, target, log_level="DEBUG" if args.verbose else "CRITICAL",
                      everything=getattr(args, "all", False))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseError as exc:  # e.g. another run holds the file past the wait
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_summary(summary))
    return 0 if summary.success else 1


def _demo(args: argparse.Namespace) -> int:
    import os

    from pipelines.demo_data import DEFAULT_SCALE, generate_demo
    from pipelines.settings import default_demo_dir, warehouse_target

    directory = Path(args.dir) if args.dir else default_demo_dir()
    scale = args.scale or DEFAULT_SCALE
    if not args.warehouse and not os.environ.get("HUB_WAREHOUSE"):
        # The default warehouse belongs to the demo: start it afresh with the new demo sources.
        default = Path(warehouse_target())
        for stale in (default, default.with_name(default.name + ".wal")):
            if stale.exists():
                stale.unlink()
    print(f"writing demo source systems ({scale} cases) into {directory} …")
    sources = generate_demo(directory, scale=scale)
    print(f"truth file: {directory / 'truth.csv'}")
    os.environ["HUB_SOURCES"] = str(sources)
    args.sources = str(sources)
    return _run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hub",
        description="Licensing data hub (相对集中行政许可权改革数据共享枢纽): sources → warehouse → share.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser(
        "run",
        help="extract what is new for HUB_SOURCES into HUB_WAREHOUSE (the first run of a day: every asset)",
    )
    run_p.add_argument("--sources", help="sources file (default: $HUB_SOURCES, else the demo's)")
    run_p.add_argument("--warehouse", help="DuckDB file or postgresql:// URL (default: $HUB_WAREHOUSE, else data/warehouse.duckdb)")
    run_p.add_argument("--all", action="store_true",
                       help="materialise every asset and check, not only the streams with something new")
    run_p.add_argument("--plan", action="store_true",
                       help="print which streams the run would extract and why, then stop (nothing is written)")
    run_p.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step log")
    run_p.set_defaults(func=_run)
    demo_p = sub.add_parser("demo", help="write the demo source systems, then run everything on them")
    demo_p.add_argument("--scale", type=int, help="number of cases (default 20000; up to 1000000 and more)")
    demo_p.add_argument("--dir", help="folder for the demo sources (default: data/demo)")
    demo_p.add_argument("--warehouse", help="DuckDB file or postgresql:// URL (default: $HUB_WAREHOUSE, else data/warehouse.duckdb)")
    demo_p.add_argument("-v", "--verbose", action="store_true", help="show Dagster's step log")
    demo_p.set_defaults(func=_demo, sources=None)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
