"""Where a run trains (one device, or data-parallel over every device JAX sees) and in
what precision.

:class:`Placement` turns the two user choices into a Keras distribution and a dtype
policy, and gives a :class:`~genwidgets.training.Run` the scope in which it builds and fits
its model. Both Keras settings are thread-local, so the scope is entered on the thread
that builds the model *and* again on the worker thread that fits it.

Data parallelism is ``keras.distribution.DataParallel``: every variable is replicated on
each device, every batch is split along its first axis, and XLA averages the gradients
across devices inside the compiled step (one program, GSPMD), so a plugin's own stateless
JAX ``train_step`` needs nothing special. With several processes (hosts), JAX's devices are
the global ones and each process feeds only its share of every global batch (the run's
batches, :meth:`~genwidgets.training.worker.Worker.batches`); see docs/multihost.md.
"""

from __future__ import annotations

import contextlib
import os

DISTRIBUTIONS = ("auto", "none", "data-parallel")
PRECISIONS = ("float32", "mixed_bfloat16")
# What keras.distribution.initialize() reads; set on every host to train across hosts.
HOST_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
                  "KERAS_DISTRIBUTION_PROCESS_ID")


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"Expected {name} to be one of {list(choices)}. "
                         f"Received: {name}={value!r}")
    return value


def initialize_hosts() -> bool:
    """Join a multi-host training when ``KERAS_DISTRIBUTION_NUM_PROCESSES`` is set.

    Calls ``keras.distribution.initialize()`` (which reads the three
    ``KERAS_DISTRIBUTION_*`` variables) once per process, before JAX runs anything.
    Returns whether this process is part of a multi-process training.
    """
    import jax

    if jax.distributed.is_initialized():  # by the user, or by an earlier run
        if jax.process_count() == 1:
            return False
        # Every process must draw the same initial weights: JAX refuses to replicate a
        # value that differs between processes. This agrees on one random seed (a psum
        # across processes), as keras.distribution.initialize() does, unless
        # keras.utils.set_random_seed() already chose one.
        from keras.src.backend.jax.distribution_lib import initialize_rng

        initialize_rng()
        return True
    if not os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES"):
        return False
    missing = [name for name in HOST_VARIABLES if not os.environ.get(name)]
    if missing:
        raise ValueError(
            f"Expected {', '.join(HOST_VARIABLES)} to be set on every host to train across "
            f"hosts. Received: {', '.join(missing)} unset")
    import keras

    keras.distribution.initialize()
    return jax.process_count() > 1


class Placement:
    """The devices a run trains on, the Keras distribution over them, and the dtype policy.

    ``distribution``: ``"auto"`` (data-parallel when JAX sees more than one device),
    ``"none"`` (JAX's default device) or ``"data-parallel"`` (every device, even one).
    ``precision``: ``"float32"`` or ``"mixed_bfloat16"`` (bfloat16 compute, float32
    variables; it pays off on GPUs and TPUs, and is slower on most CPUs).
    """

    def __init__(self, distribution: str = "auto", precision: str = "float32"):
        _check_choice("distribution", distribution, DISTRIBUTIONS)
        self.precision = _check_choice("precision", precision, PRECISIONS)
        initialize_hosts()
        import jax
        import keras

        devices = jax.devices()
        parallel = distribution == "data-parallel" or (
            distribution == "auto" and len(devices) > 1)
        self.mode = "data-parallel" if parallel else "none"
        self.process_count = jax.process_count() if parallel else 1
        self.process_index = jax.process_index() if parallel else 0
        if parallel:
            # the run feeds each process its share, so Keras need not shard the data
            self.distribution = keras.distribution.DataParallel(
                devices=keras.distribution.list_devices(), auto_shard_dataset=False)
            self.devices = [str(d) for d in self.distribution.device_mesh.devices.flat]
        else:
            self.distribution = None
            self.devices = [f"{devices[0].platform}:{devices[0].id}"]

    def __repr__(self) -> str:
        return (f"Placement(mode={self.mode!r}, devices={self.devices}, "
                f"precision={self.precision!r})")

    @contextlib.contextmanager
    def scope(self):
        """Make the distribution and the dtype policy current on this thread."""
        import keras

        old_policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.precision)
        try:
            if self.distribution is None:
                yield
            else:
                with self.distribution.scope():
                    yield
        finally:
            keras.config.set_dtype_policy(old_policy)

    def check_batch(self, batch_size: int) -> None:
        """Raise unless a global batch splits evenly over the devices (and the processes)."""
        n = len(self.devices)
        if self.mode == "data-parallel" and batch_size % n:
            lower, upper = batch_size - batch_size % n, batch_size + n - batch_size % n
            raise ValueError(
                f"Expected a batch size divisible by the {n} devices it is split over "
                f"(data-parallel over {', '.join(self.devices)}). Received: "
                f"batch_size={batch_size}. Use {lower or upper}"
                f"{f' or {upper}' if lower else ''}, or distribution='none' to train on "
                f"one device.")

    def adopt(self, model):
        """Replicate a model built elsewhere over this placement's devices (data-parallel).

        Variables made outside the distribution sit on one device, and fit cannot mix
        them with replicated ones; this copies each onto every device. Needs one process.
        """
        if self.distribution is None:
            return model
        import jax

        replicated = jax.sharding.NamedSharding(
            self.distribution.device_mesh.backend_mesh, jax.sharding.PartitionSpec())
        variables = list(model.variables) + list(getattr(model, "metrics_variables", []))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:  # its iteration count and learning rate exist unbuilt
            variables += list(optimizer.variables)
        seen = set()
        for variable in variables:
            if id(variable) in seen:
                continue
            seen.add(id(variable))
            value = variable.value
            if getattr(value, "sharding", None) != replicated:
                if self.process_count > 1:
                    raise ValueError(
                        "Expected the model to be built inside the run on every host. "
                        "Received: a model built outside the distribution (pass the spec "
                        "and config to Run instead of model=)")
                variable.assign(jax.device_put(value, replicated))
        return model
