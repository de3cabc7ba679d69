"""The shape of the code, and the threads a live Studio run keeps: the figures a design
review asks for, measured on the tree it runs in.

    python benchmarks/design_figures.py [--root DIR] [--no-studio]

JSON lines: the largest modules and classes (lines; methods), import cycles among the
modules of ``genwidgets`` and the built-in plugins (imports inside functions count),
attributes with a leading underscore read through another object than ``self``/``cls``
(by whom), and, unless ``--no-studio``, the threads of a Studio that creates a run,
trains it with the Explore tab open, then creates a second run. The last line is the
headline. ``--root`` measures another checkout (for a before/after in one session).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def sources(root: Path) -> list[Path]:
    return sorted([*(root / "genwidgets").rglob("*.py"), *(root / "plugins").rglob("*.py")])


def sizes(root: Path) -> tuple[list, list]:
    modules, classes = [], []
    for path in sources(root):
        text, rel = path.read_text(), str(path.relative_to(root))
        modules.append((len(text.splitlines()), rel))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                methods = sum(isinstance(b, ast.FunctionDef | ast.AsyncFunctionDef)
                              for b in node.body)
                classes.append((node.end_lineno - node.lineno + 1, methods,
                                f"{rel}:{node.name}"))
    return sorted(modules, reverse=True), sorted(classes, reverse=True)


def private_reads(root: Path) -> Counter:
    """``x._name`` where ``x`` is not ``self``/``cls`` (dunders aside), and ``from
    genwidgets... import _name``, per module."""
    found: Counter = Counter()
    for path in sources(root):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("genwidgets", "plugins")):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found[f"{path.relative_to(root)}: from {node.module} import "
                              f"{alias.name}"] += 1
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ("self", "cls"))):
                found[f"{path.relative_to(root)}: {ast.unparse(node)}"] += 1
    return found


def import_cycles(root: Path) -> list[list[str]]:
    # the test's own reading of the imports (loaded from its file: this checkout's
    # genwidgets stays out of sys.path when --root measures another)
    spec = importlib.util.spec_from_file_location("import_graph",
                                                  HERE / "tests" / "test_import_graph.py")
    graph = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(graph)
    graph.PACKAGES[:] = [root / "genwidgets", *sorted((root / "plugins").glob("genwidgets_*"))]
    known = graph.modules()
    return graph.cycles({name: graph.imports(path, name, known)
                         for name, path in known.items()})


def ours() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())


def studio_threads() -> dict:
    """A Studio as a person uses it: create a run, Train, open Explore while it trains,
    then Stop it and create another and open Explore again."""
    from genwidgets.widgets import Studio
    from genwidgets.widgets.studio import TABS

    before = ours()
    with tempfile.TemporaryDirectory() as runs:
        studio = Studio("vae", "digits", runs=runs, epochs=10_000)
        for name, value in {"latent_dim": 2, "hidden": 16, "depth": 1}.items():
            studio.form.fields[name].value = value
        first = studio.create_run()
        first.start()
        studio.tabs.selected_index = TABS.index("Explore")
        while len(first.epoch_history) < 2:
            time.sleep(0.05)
        live = ours()
        studio.stop_and_create()
        studio.tabs.selected_index = TABS.index("Train")
        studio.tabs.selected_index = TABS.index("Explore")
        time.sleep(1.0)  # a stopped follower ends within its tick
        second = ours()
        studio.run.stop()
        studio.panel.close()
    started = Counter(live) - Counter(before)
    left = Counter(second) - Counter(before)
    return {"studio_threads_live": sum(started.values()), "live_threads": dict(started),
            "studio_threads_after_second_run": sum(left.values()),
            "after_second_run_threads": dict(left)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE)
    parser.add_argument("--no-studio", action="store_true")
    args = parser.parse_args()
    root = args.root.resolve()
    modules, classes = sizes(root)
    emit(figure="largest_modules", modules=modules[:3])
    emit(figure="largest_classes", classes=[{"lines": n, "methods": m, "class": c}
                                            for n, m, c in classes[:3]])
    cycles = import_cycles(root)
    emit(figure="import_cycles", cycles=cycles)
    reads = private_reads(root)
    emit(figure="private_reads", reads=dict(sorted(reads.items())))
    headline = {"largest_module_lines": modules[0][0], "largest_module": modules[0][1],
                "largest_class_lines": classes[0][0], "largest_class": classes[0][2],
                "largest_class_methods": classes[0][1], "import_cycles": len(cycles),
                "private_reads": sum(reads.values())}
    if not args.no_studio:
        figures = studio_threads()
        emit(figure="studio_threads", **figures)
        headline.update({k: v for k, v in figures.items() if k.startswith("studio_")})
    emit(**headline)


if __name__ == "__main__":
    main()
