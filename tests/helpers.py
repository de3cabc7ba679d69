"""What many test modules share: small real data, a wait with a deadline, a model spec
whose loss goes NaN (or raises) on purpose, the command line, widgets' HTML and the
points message a page sends when a map is clicked."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

from genwidgets import DataInfo, Dataset, ModelSpec


def digits(n: int = 512, labels: bool = False) -> Dataset:
    """The first ``n`` of scikit-learn's 8x8 digits in [0, 1] (with their labels when
    ``labels``)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images[:n] / 16.0).astype("float32")[..., None]
    if not labels:
        return Dataset(x, DataInfo("digits", "image", (8, 8, 1), len(x)))
    info = DataInfo("digits", "image", (8, 8, 1), len(x),
                    label_names=tuple(str(i) for i in range(10)))
    return Dataset(x, info, y=bunch.target[:n])


def wait_for(predicate, timeout=60.0, what="condition"):
    """Poll ``predicate`` every 20 ms; AssertionError naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class ExplodingSpec(ModelSpec):
    """A model whose loss is log(w) while w shrinks: NaN at the fourth step."""

    name = "exploding"
    family = "test"

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Config:
        learning_rate: float = 0.3
        fail: bool = False

    def build(self, config, data_info):
        import keras

        class Exploding(keras.Model):
            def __init__(self):
                super().__init__()
                self.w = self.add_weight((), initializer="ones")
                self.latent_dim = 1

            def call(self, x):
                return x

            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                if config.fail:
                    raise RuntimeError("the model raised on purpose")
                return keras.ops.log(self.w) + 0.0 * keras.ops.mean(y_pred)

        model = Exploding()
        model.compile(optimizer=keras.optimizers.SGD(config.learning_rate))
        return model


def genwidgets(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the ``genwidgets`` command line in a fresh process."""
    return subprocess.run([sys.executable, "-m", "genwidgets.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def walk(widget):
    """``widget`` and every widget under it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def with_class(root, css_class: str) -> list:
    """The widgets under ``root`` that carry ``css_class``."""
    return [w for w in walk(root) if css_class in w.get_state().get("_dom_classes", ())]


def html_of(widget) -> str:
    """Every string ``value`` under ``widget`` (HTML, labels), one a line."""
    return "\n".join(w.value for w in walk(widget) if isinstance(getattr(w, "value", None), str))


def click(figure, trace: int, point, x: float, y: float, event: str = "plotly_click"):
    """Send the points message the browser sends when a user clicks (or hovers)."""
    figure._js2py_pointsCallback = {
        "event_type": event, "selector": None, "device_state": None,
        "points": {"trace_indexes": [trace], "point_indexes": [point], "xs": [x], "ys": [y]}}


def click_item(m, index: int, event: str = "plotly_click") -> None:
    """Click the point of data item ``index`` on the LatentMap ``m``."""
    import numpy as np

    row = int(np.flatnonzero(m.idx == index)[0])
    for k, rows in enumerate(m._groups):
        where = np.flatnonzero(rows == row)
        if len(where):
            click(m.figure, k + 1, int(where[0]), *map(float, m.xy[row]), event=event)
            return
    raise AssertionError(f"item {index} has no point")


def edit_saved_config(path, edit) -> None:
    """Rewrite the ``config.json`` inside the ``.keras`` file at ``path`` with ``edit`` (a
    function that changes the parsed dict in place), every other member as it was: a model
    file as another build of genwidgets or of a plugin would have written it."""
    import json
    import zipfile

    with zipfile.ZipFile(path) as old:
        files = {name: old.read(name) for name in old.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as new:
        for name, data in files.items():
            new.writestr(name, data)


def edit_checkpoint_models(run_folder, edit) -> None:
    """:func:`edit_saved_config` on every checkpoint of ``run_folder``, each ``state.json``
    given the new file's size and SHA-256 so that the checkpoint still checks as whole."""
    import hashlib
    import json

    from genwidgets.training.checkpoint import checkpoint_dirs

    for folder in checkpoint_dirs(run_folder):
        path = folder / "model.keras"
        edit_saved_config(path, edit)
        state = json.loads((folder / "state.json").read_text())
        data = path.read_bytes()
        state["files"]["model.keras"] = {"size": len(data),
                                         "sha256": hashlib.sha256(data).hexdigest()}
        (folder / "state.json").write_text(json.dumps(state))
