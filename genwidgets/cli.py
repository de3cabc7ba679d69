"""The ``genwidgets`` command: ``plugins``, ``train``, ``doctor``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

# genwidgets.training.distribution's choices, spelled out so that listing plugins stays light
DISTRIBUTIONS = ("auto", "none", "data-parallel")
PRECISIONS = ("float32", "mixed_bfloat16")

TABLE_COLUMNS = ("name", "kind", "family", "modalities", "distribution", "version", "status",
                 "error")
JSON_KEYS = ("name", "kind", "family", "modalities", "plugin", "distribution", "version",
             "status", "error", "check")


def _table(rows: list[dict], columns: Sequence[str]) -> str:
    def cell(row, col):
        value = row.get(col)
        if isinstance(value, list):
            value = ",".join(value)
        text = "" if value is None else str(value)
        return text.splitlines()[0][:100] if text else ""

    cells = [[cell(r, c) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join(lines)


def cmd_plugins(args) -> int:
    from genwidgets.plugins import get_registry

    registry = get_registry()
    if args.check is not None:
        def progress(result):
            verdict = "ok" if result.ok else f"FAILED in {result.stage}: {result.error}"
            print(f"checked {result.model} ({result.modality}) in {result.seconds:.1f}s: "
                  f"{verdict}".splitlines()[0], file=sys.stderr)

        registry.check(args.check or None, reload=args.reload, progress=progress)
    rows = registry.rows()
    if args.json:
        print(json.dumps([{k: r.get(k) for k in JSON_KEYS} for r in rows], indent=2))
    else:
        print(_table(rows, TABLE_COLUMNS))
        failed = [r for r in rows if r["status"] == "failed"]
        for r in failed:
            print(f"\nplugin {r['plugin']!r} failed ({r.get('hook') or 'import'}):\n"
                  f"{r.get('traceback') or r['error']}", file=sys.stderr)
    if args.check is not None:  # a failed check fails the command (for CI)
        return 1 if any(r.get("check") == "failed" for r in rows) else 0
    return 0


def _resume_options(args) -> dict:
    """What a run folder's config.json says, for `genwidgets train --resume DIR`."""
    from pathlib import Path

    from genwidgets.training.checkpoint import checkpoint_dirs, no_checkpoint_error

    folder = Path(args.resume)
    if args.overwrite:
        raise ValueError(f"Expected --resume DIR or --overwrite, not both. Received: --resume "
                         f"{folder} --overwrite. To replace that run: --out {folder} "
                         f"--overwrite.")
    if not checkpoint_dirs(folder):  # refused before any data is loaded; nothing changes
        raise no_checkpoint_error(folder, cli=True)
    try:
        doc = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Expected a run folder written by `genwidgets train --out`. "
                         f"Received: --resume {str(folder)!r} ({type(exc).__name__}: {exc})")
    return {"model": doc["model"], "data": doc["data"], "config": doc.get("config") or {},
            "data_options": doc.get("data_options") or {},
            "epochs": doc.get("epochs", 10) if args.epochs is None else args.epochs,
            "batch_size": doc.get("batch_size", args.batch_size),
            "distribution": doc.get("distribution", args.distribution),
            "precision": doc.get("precision", args.precision), "seed": doc.get("seed"),
            "out": str(folder), "resume": True}


def cmd_train(args) -> int:
    from genwidgets.config import parse_assignments
    from genwidgets.plugins import get_registry
    from genwidgets.training import Run
    from genwidgets.training.headless import train_run

    registry = get_registry()
    if args.resume:
        o = _resume_options(args)
        args.out = o["out"]
        spec = registry.model(o["model"])
        config, data_options = spec.config(**o["config"]), o["data_options"]
        dataset = registry.dataset(o["data"]).load(**_typed(data_options))
        extra = {"resume": True, "seed": o["seed"]}
    else:
        if not args.out:
            raise ValueError("Expected --out DIR for a new run, or --resume DIR. Received "
                             "neither.")
        from genwidgets.training.ownership import check_new

        check_new(args.out, args.overwrite)  # before any data is loaded (Run checks again)
        o = {"epochs": 10 if args.epochs is None else args.epochs,
             "batch_size": args.batch_size,
             "distribution": args.distribution, "precision": args.precision}
        spec = registry.model(args.model)
        settings = parse_assignments(args.set)
        spec.config(**settings)  # a bad setting is told before any data is loaded
        data_options = parse_assignments(args.data_opt)
        if args.data is None:
            from genwidgets.data.builtin import default_dataset

            args.data = default_dataset(spec.modalities)
        dataset = registry.dataset(args.data).load(**_typed(data_options))
        config = spec.config_for(dataset.info.modality, **settings)
        extra = {"overwrite": args.overwrite}
    args.epochs = o["epochs"]
    run = Run(spec, dataset, config, epochs=args.epochs, batch_size=o["batch_size"],
              out=args.out, data_options=data_options, distribution=o["distribution"],
              precision=o["precision"], **extra)
    if args.resume:
        print(f"resumed at step {run.steps}: {args.out}", file=sys.stderr)
    print(f"training {spec.name} on {dataset.info.name} ({len(dataset)} items, "
          f"{dataset.info.modality} {tuple(dataset.info.shape)}) for {args.epochs} epochs",
          file=sys.stderr)
    run = train_run(run, progress=not args.quiet)
    last = run.epoch_history[-1] if run.epoch_history else {}
    summary = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("epoch", "step"))
    if run.state != "finished":
        print(f"{run.message}; see {args.out}", file=sys.stderr)
        if run.traceback:
            print(run.traceback, file=sys.stderr)
        return 1
    print(f"{run.message}: {summary}")
    print(f"wrote {args.out}/model.keras, config.json, history.jsonl, batches.jsonl")
    return 0


def _typed(options: dict[str, str]) -> dict:
    """Data options from the command line: integers where they look like integers."""
    return {k: int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v
            for k, v in options.items()}


def cmd_doctor(args) -> int:
    from genwidgets.doctor import diagnose

    report = diagnose()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, version in report["versions"].items():
            print(f"{name:20s} {version or 'not installed'}")
        print(f"{'devices':20s} {', '.join(report['devices'])}")
        for problem in report["problems"]:
            print(f"PROBLEM: {problem}")
        print("ok" if not report["problems"] else f"{len(report['problems'])} problem(s)")
    return 1 if report["problems"] else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genwidgets",
        description="Watch generative models train and explore their latent space.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list model and dataset plugins, and broken ones")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--check", nargs="*", metavar="MODEL", default=None,
                   help="build each model (or those named) on tiny data, train one step and "
                   "check encode/decode/sample; exit 1 if one fails")
    p.add_argument("--reload", action="store_true",
                   help="with --check: also save and reload each model in a fresh process")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("train", help="train a model headless and write a run folder")
    p.add_argument("--model", default="ae", help="model name (see `genwidgets plugins`)")
    p.add_argument("--data", default=None,
                   help="dataset name (see `genwidgets plugins`; default: digits for a model "
                        "that takes images, sentences for a text model)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs in all (default 10; with --resume, the run's own)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", help="folder for model.keras, config.json, history.jsonl and "
                   "checkpoints/")
    p.add_argument("--resume", metavar="DIR", help="go on with the run in DIR from its latest "
                   "checkpoint (model, data and settings from its config.json)")
    p.add_argument("--overwrite", action="store_true",
                   help="with --out: replace the run in that folder (removes only genwidgets' "
                   "own files: config.json, batches.jsonl, history.jsonl, model.keras, its "
                   "checkpoints and latent snapshots; never another file)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a model setting, e.g. --set latent_dim=8 (repeatable)")
    p.add_argument("--data-opt", action="append", metavar="KEY=VALUE",
                   help="a dataset option, e.g. --data-opt path=poems.txt (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default="auto",
                   help="data-parallel over every device JAX sees (auto: when there is more "
                   "than one; the batch size must divide evenly), or none (one device)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32",
                   help="mixed_bfloat16 computes in bfloat16 with float32 weights (faster on "
                   "GPUs and TPUs, not on CPUs)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("studio", help="serve the Studio as a Voila app on 127.0.0.1")
    from genwidgets.app import launcher as studio_app  # light: Voila is imported on serve

    studio_app.add_arguments(p)
    p.set_defaults(func=studio_app.main)

    p = sub.add_parser("doctor", help="versions and known-bad combinations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from genwidgets.config import ConfigError
    from genwidgets.plugins import PluginError, UnknownNameError
    from genwidgets.training.checkpoint import CheckpointError
    from genwidgets.training.folder import FolderInUseError
    from genwidgets.training.run import RunError

    try:
        return args.func(args)
    except FolderInUseError as exc:  # says --resume / --out / --overwrite, not Python
        print(f"genwidgets {args.command}: error: {exc.advice(cli=True)}", file=sys.stderr)
        return 2
    except (ConfigError, UnknownNameError, PluginError, ValueError, OSError,
            ModuleNotFoundError, CheckpointError, RunError) as exc:
        print(f"genwidgets {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genwidgets {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
