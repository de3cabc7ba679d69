"""Training runs: fitting a plugin's model on a dataset, with history and checkpoints on disk."""

from genwidgets.training.fit import TrainResult, train

__all__ = ["TrainResult", "train"]
