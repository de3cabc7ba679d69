"""Keras callbacks the trainer attaches: history on disk, NaN stop, a tqdm bar."""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras


def _plain(logs: dict | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items()}


class HistoryWriter(keras.callbacks.Callback):
    """Append one JSON object per epoch (every loss part) to ``history.jsonl``."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch + 1, **_plain(logs)}) + "\n")


class StopOnNaN(keras.callbacks.Callback):
    """Stop visibly when a loss part turns NaN or infinite, naming the part and the step."""

    def __init__(self):
        super().__init__()
        self.reason: str | None = None
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        for key, value in _plain(logs).items():
            if not math.isfinite(value):
                self.reason = f"stopped: {value} in {key} at step {self.step}"
                self.model.stop_training = True
                return


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar over all steps of the run, its postfix the latest losses."""

    def __init__(self, epochs: int, steps_per_epoch: int, **tqdm_kwargs):
        super().__init__()
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.tqdm_kwargs = tqdm_kwargs
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs * self.steps_per_epoch, unit="step",
                        **self.tqdm_kwargs)

    def on_epoch_begin(self, epoch, logs=None):
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)
        if batch % 10 == 0:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in _plain(logs).items()}, refresh=False)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
