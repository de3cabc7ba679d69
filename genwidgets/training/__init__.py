"""Training runs: a worker thread fitting a plugin's model, steered by events, saved to disk."""

from genwidgets.training.headless import train
from genwidgets.training.run import Run, RunError

__all__ = ["Run", "RunError", "train"]
