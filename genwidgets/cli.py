"""The ``genwidgets`` command: ``plugins``, ``train``, ``export``, ``doctor``."""

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
    from genwidgets.registry import get_registry

    if args.reload and args.check is None:
        raise ValueError("Expected --reload with --check (it reloads each checked model in a "
                         "fresh process). Received: --reload alone. Run `genwidgets plugins "
                         "--check --reload`.")
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


def _refuse_on_resume(folder, run_config, recorded: dict, args, data_options: dict) -> None:
    """What a resume cannot change (model, data, batch size): refused when given otherwise,
    never silently ignored. Settings (``--set``) are checked by the Run: mutable ones apply.
    ``run_config``: the folder's RunConfig; ``recorded``: its data options, typed."""
    asked = {"--model": (args.model, run_config.model), "--data": (args.data, run_config.data),
             "--batch-size": (args.batch_size, run_config.settings()["batch_size"])}
    for key, value in data_options.items():
        asked["--data-opt"] = (f"{key}={value}", f"{key}={recorded.get(key)}")
        if recorded.get(key) != value:
            break
    for flag, (given, has) in asked.items():
        if given is not None and given != has:
            raise ValueError(
                f"--resume {folder} {flag} {given}: the run was trained with {flag} {has}, "
                f"and a resume goes on with the same one. Nothing was changed. Resume "
                f"without {flag}, or start a new run in another folder (--out).")


def _resume(args, registry):
    """``(spec, dataset, run kwargs)`` for `genwidgets train --resume DIR`, from DIR's
    config.json (checked) and what the command line may change."""
    from pathlib import Path

    from genwidgets.config import data_options, parse_assignments
    from genwidgets.training.checkpoint import checkpoint_dirs, no_checkpoint_error
    from genwidgets.training.run_config import RunConfig

    folder = Path(args.resume)
    if args.overwrite:
        raise ValueError(f"Expected --resume DIR or --overwrite, not both. Received: --resume "
                         f"{folder} --overwrite. To replace that run: --out {folder} "
                         f"--overwrite.")
    if args.out and Path(args.out) != folder:
        raise ValueError(f"Expected --resume DIR alone (the run goes on in DIR). Received: "
                         f"--resume {folder} --out {args.out}.")
    if not checkpoint_dirs(folder):  # refused before any data is loaded; nothing changes
        raise no_checkpoint_error(folder, cli=True)
    run_config = RunConfig.read(folder)  # says which key is missing or of the wrong type
    data_spec = registry.dataset(run_config.data)
    recorded = data_options(data_spec, run_config.data_options)  # "200" of old runs: 200
    given = data_options(data_spec, parse_assignments(args.data_opt))
    _refuse_on_resume(folder, run_config, recorded, args, given)
    spec = registry.model(run_config.model)
    dataset = data_spec.load(**recorded)
    settings = run_config.settings()  # as recorded, defaults where the file does not say
    kwargs = {"epochs": settings["epochs"] if args.epochs is None else args.epochs,
              "batch_size": settings["batch_size"],
              "distribution": args.distribution or settings["distribution"],
              "precision": args.precision or settings["precision"],
              "seed": settings["seed"], "data_options": recorded, "resume": True,
              "config": parse_assignments(args.set) or None,
              "validation": _validation(args)}
    args.out = str(folder)
    return spec, dataset, kwargs


def _validation(args) -> float | None:
    """``--validation SHARE`` as a number in (0, 1), or None when not given."""
    from genwidgets.training.checks import share_from_text

    return None if args.validation is None else share_from_text("--validation",
                                                                 args.validation)


def _new(args, registry):
    """``(spec, dataset, run kwargs)`` for `genwidgets train --out DIR`."""
    from genwidgets.config import data_options, parse_assignments
    from genwidgets.training.ownership import check_new

    if not args.out:
        raise ValueError("Expected --out DIR for a new run, or --resume DIR. Received "
                         "neither.")
    validation = _validation(args)  # told before any data is loaded
    check_new(args.out, args.overwrite)  # before any data is loaded (Run checks again)
    spec = registry.model(args.model or "ae")
    settings = parse_assignments(args.set)
    spec.config(**settings)  # a bad setting is told before any data is loaded
    if args.data is None:
        from genwidgets.data.builtin import default_dataset

        args.data = default_dataset(spec.modalities)
    data_spec = registry.dataset(args.data)
    options = data_options(data_spec, parse_assignments(args.data_opt))  # typed, as kept
    dataset = data_spec.load(**options)
    kwargs = {"epochs": 10 if args.epochs is None else args.epochs,
              "batch_size": 64 if args.batch_size is None else args.batch_size,
              "distribution": args.distribution or "auto",
              "precision": args.precision or "float32", "data_options": options,
              "overwrite": args.overwrite, "validation": validation,
              "config": spec.config_for(dataset.info.modality, **settings)}
    return spec, dataset, kwargs


def cmd_train(args) -> int:
    from genwidgets.registry import get_registry
    from genwidgets.training import Run
    from genwidgets.training.headless import train_run

    registry = get_registry()
    spec, dataset, kwargs = (_resume if args.resume else _new)(args, registry)
    config = kwargs.pop("config")
    run = Run(spec, dataset, config, out=args.out, checkpoint_every_s=args.checkpoint_every,
              **kwargs)
    if args.tensorboard is not None:
        _attach_tensorboard(run, args.tensorboard)
    if run.already_finished:  # nothing was written
        print(f"genwidgets train: {args.out}: {run.message.replace('epochs=', '--epochs ')}.",
              file=sys.stderr)
        return 0
    if args.resume:
        print(f"{run.message}: {args.out}", file=sys.stderr)
    done = f" in all ({run.steps // run.steps_per_epoch} done)" if args.resume else ""
    print(f"training {spec.name} on {dataset.info.name} ({len(dataset)} items, "
          f"{dataset.info.modality} {tuple(dataset.info.shape)}) for {run.epochs} epochs"
          f"{done}", file=sys.stderr)
    run = train_run(run, progress=not args.quiet)  # Ctrl-C and SIGTERM stop it cleanly
    last = run.epoch_history[-1] if run.epoch_history else {}
    summary = ", ".join(f"{k}={v:.4g}" for k, v in last.items() if k not in ("epoch", "step"))
    if run.state != "finished":
        print(f"genwidgets train: {run.message}; see {args.out}", file=sys.stderr)
        if run.traceback:
            _tell_traceback(args, run.traceback)
        return 1
    print(f"{run.message}: {summary}")
    print(f"wrote {args.out}/model.keras, config.json, history.jsonl, batches.jsonl")
    return 0


def _attach_tensorboard(run, logdir) -> None:
    """`train --tensorboard [LOGDIR]`: latent snapshots (a model that encodes) and
    TensorBoard logs (default <out>/tensorboard) written as the run trains."""
    from genwidgets.tensorboard import attach_tensorboard, require_tensorboardx

    require_tensorboardx()  # a missing package is told before any training
    writer = attach_tensorboard(run, logdir or None)
    print(f"TensorBoard logs in {writer.logdir} (tensorboard --logdir {writer.logdir})",
          file=sys.stderr)


def cmd_export(args) -> int:
    from genwidgets.tensorboard import export_tensorboard

    done = export_tensorboard(args.tensorboard, args.logdir)
    for note in done["notes"]:
        print(f"genwidgets export: note: {note}", file=sys.stderr)
    print(f"wrote {done['batch_scalars']} batch and {done['epoch_scalars']} epoch scalars, "
          f"samples at {len(done['samples'])} step(s) and {len(done['projector'])} latent "
          f"snapshot(s) to {done['logdir']}")
    print(f"view them: tensorboard --logdir {done['logdir']} --host 127.0.0.1")
    return 0


def _tell_traceback(args, text: str) -> None:
    """The full traceback: shown with --debug, else written to a file that is named."""
    if getattr(args, "debug", False):
        print(text, file=sys.stderr, end="" if text.endswith("\n") else "\n")
        return
    import tempfile

    try:
        fd, path = tempfile.mkstemp(prefix="genwidgets-error-", suffix=".txt")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError:
        print("(the full traceback could not be written; run again with --debug)",
              file=sys.stderr)
        return
    print(f"the full traceback is in {path} (or run again with --debug to see it)",
          file=sys.stderr)


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
    from genwidgets import __version__

    parser = argparse.ArgumentParser(
        prog="genwidgets",
        description="Watch generative models train and explore their latent space.")
    parser.add_argument("--version", action="version", version=f"genwidgets {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    parser.set_defaults(debug=False)

    p = sub.add_parser("plugins", help="list model and dataset plugins, and broken ones",
                       parents=[common])
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument("--check", nargs="*", metavar="MODEL", default=None,
                   help="build each model (or those named) on tiny data, train one step and "
                   "check encode/decode/sample; exit 1 if one fails")
    p.add_argument("--reload", action="store_true",
                   help="with --check: also save and reload each model in a fresh process")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("train", help="train a model headless and write a run folder",
                       parents=[common])
    p.add_argument("--model", default=None,
                   help="model name (see `genwidgets plugins`; default ae; with --resume, "
                   "the run's own)")
    p.add_argument("--data", default=None,
                   help="dataset name (see `genwidgets plugins`; default: digits for a model "
                        "that takes images, sentences for a text model)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs in all (default 10; with --resume, the run's own: a resumed "
                   "run trains up to N epochs in all, and one that has them says so)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="items a step (default 64; with --resume, the run's own)")
    p.add_argument("--out", help="folder for model.keras, config.json, history.jsonl and "
                   "checkpoints/")
    p.add_argument("--resume", metavar="DIR", help="go on with the run in DIR from its latest "
                   "checkpoint (model, data and settings from its config.json)")
    p.add_argument("--overwrite", action="store_true",
                   help="with --out: replace the run in that folder (removes only genwidgets' "
                   "own files: config.json, batches.jsonl, history.jsonl, model.keras, its "
                   "checkpoints and latent snapshots; never another file)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a model setting, e.g. --set latent_dim=8 (repeatable; with --resume "
                   "only the model's mutable ones, e.g. learning_rate)")
    p.add_argument("--data-opt", action="append", metavar="KEY=VALUE",
                   help="a dataset option, e.g. --data-opt path=poems.txt (repeatable)")
    p.add_argument("--checkpoint-every", type=float, default=30.0, metavar="SECONDS",
                   help="write a checkpoint at an epoch's end once this many seconds have "
                   "passed since the last (default 30; 0: at every epoch's end); within a long "
                   "epoch one is written every 10 minutes, and one at a stop and at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default=None,
                   help="data-parallel over every device JAX sees (auto: when there is more "
                   "than one, the default; the batch size must divide evenly), or none (one "
                   "device)")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="float32 (the default), or mixed_bfloat16: computes in bfloat16 with "
                   "float32 weights (faster on GPUs and TPUs, not on CPUs)")
    p.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="LOGDIR",
                   help="also write TensorBoard logs (scalars, samples at epoch ends, latent "
                   "snapshots for the projector) to LOGDIR (default <out>/tensorboard)")
    p.add_argument("--validation", default=None, metavar="SHARE",
                   help="hold out this share of the data (say 0.1) and report val_* losses "
                   "at each epoch end (with --resume, the run's own split)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("export", help="write a saved run in another format (TensorBoard)",
                       parents=[common])
    p.add_argument("--tensorboard", required=True, metavar="RUN_DIR",
                   help="the run folder to write as TensorBoard logs (scalars of "
                   "batches.jsonl and history.jsonl, samples, latent snapshots)")
    p.add_argument("--logdir", default=None, metavar="DIR",
                   help="a new or empty folder for the event files (default "
                   "RUN_DIR/tensorboard)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("studio", help="serve the Studio as a Voila app on 127.0.0.1",
                       parents=[common])
    from genwidgets.app import launcher as studio_app  # light: Voila is imported on serve

    studio_app.add_arguments(p)
    p.set_defaults(func=studio_app.main)

    p = sub.add_parser("doctor", help="versions and known-bad combinations", parents=[common])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)
    return parser


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the input is wrong (exit 2 with their message), not a bug."""
    from genwidgets.config import ConfigError
    from genwidgets.registry import PluginError, UnknownNameError
    from genwidgets.training.checkpoint import CheckpointError
    from genwidgets.training.run import RunError

    return (ConfigError, UnknownNameError, PluginError, ValueError, OSError,
            ModuleNotFoundError, CheckpointError, RunError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    prefix = f"genwidgets {args.command}"
    try:
        from genwidgets.training.errors import Terminated
        from genwidgets.training.folder import FolderInUseError

        try:
            return args.func(args)
        except FolderInUseError as exc:  # says --resume / --out / --overwrite, not Python
            print(f"{prefix}: error: {exc.advice(cli=True)}", file=sys.stderr)
            return 2
        except user_errors() as exc:
            if args.debug:
                import traceback

                traceback.print_exc()
            print(f"{prefix}: error: {_one_message(exc)}", file=sys.stderr)
            return 2
    except Terminated:
        print(f"{prefix}: terminated (SIGTERM); the run's checkpoint is kept", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the user's mistake: one line, the rest in a file
        import traceback

        print(f"{prefix}: internal error: {type(exc).__name__}: {_one_message(exc)}",
              file=sys.stderr)
        _tell_traceback(args, traceback.format_exc())
        return 1


def _one_message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    return " ".join(text.split())  # one line


if __name__ == "__main__":
    sys.exit(main())
