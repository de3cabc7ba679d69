"""Training without a notebook: the same :class:`Run`, a tqdm bar fed from its events."""

from __future__ import annotations

from genwidgets.training.events import Progress
from genwidgets.training.follower import EventFollower
from genwidgets.training.run import Run


def train(spec, dataset, config=None, *, epochs: int, batch_size: int = 64, out=None,
          progress: bool = False, data_options: dict | None = None, **kwargs) -> Run:
    """Train to the end (Ctrl-C stops cleanly and keeps the model); return the finished run."""
    run = Run(spec, dataset, config, epochs=epochs, batch_size=batch_size, out=out,
              data_options=data_options, **kwargs)
    return train_run(run, progress=progress)


def train_run(run: Run, *, progress: bool = False) -> Run:
    """Train ``run`` to the end, as :func:`train` does (Ctrl-C stops it cleanly)."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=run.total_steps, unit="step")

    def show(batch) -> None:
        for event in batch:
            if bar is not None and isinstance(event, Progress):
                bar.set_description(f"epoch {event.epoch}/{run.epochs}")
                bar.update(event.step - bar.n)
                bar.set_postfix({k: f"{v:.4g}" for k, v in event.logs.items()},
                                refresh=False)

    follower = EventFollower(run, show, tick_s=0.2)
    run.start()
    try:
        follower.follow(until_done=True)
    except KeyboardInterrupt:
        run.stop()
        run.wait()
        raise
    finally:
        follower.stop()
        if bar is not None:
            bar.close()
    run.wait()
    return run
