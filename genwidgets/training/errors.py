"""The errors a run raises for what was asked of it (imported by every part of a run)."""


class RunError(RuntimeError):
    """A run cannot do what was asked (say, a second start while it trains)."""


class ModelBuildError(RunError):
    """A plugin's ``build()`` raised; the message names the model, the plugin and the error."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C: the run stops, writes its checkpoint, the command ends."""
