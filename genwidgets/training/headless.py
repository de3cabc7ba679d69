"""Training without a notebook: the same :class:`Run`, a tqdm bar fed from its events.

Ctrl-C (SIGINT) and SIGTERM stop the run cleanly: on the main thread a signal only marks
itself, and the follower's loop, which ticks every 0.2 s, raises it between two batches of
events. A ``KeyboardInterrupt`` raised by Python's own handler can land anywhere, inside a
queue's or a lock's wait, and leave that lock in a state the worker then waits on forever.
A second Ctrl-C while the run writes its checkpoint interrupts at once, as usual.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from genwidgets.training.errors import Terminated
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

    with _signals_marked() as received:
        def show(batch) -> None:
            if received:
                raise Terminated() if received[0] == signal.SIGTERM else KeyboardInterrupt()
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
            _restore_interrupt()  # a second Ctrl-C while it stops ends the wait at once
            run.wait()
            raise
        finally:
            follower.stop()
            if bar is not None:
                bar.close()
    run.wait()
    return run


@contextlib.contextmanager
def _signals_marked() -> Iterator[list[int]]:
    """SIGINT and SIGTERM append their number to the list yielded, and nothing else; the
    previous handlers come back at the end. Off the main thread, where Python cannot set
    handlers, the list stays empty and signals act as before."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def mark(signum, frame) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, mark) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _restore_interrupt() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
