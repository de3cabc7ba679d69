"""How fast the latent engine decodes a path and encodes a dataset, against Keras' predict.

    python benchmarks/interp_latency.py [--repeat 200] [--steps 16] [--train-steps 20]

Uses the VAE built for MNIST's 28x28x1 images (default settings, a few training steps)
and the 10,000 MNIST test images from ../shared/data/mnist (relative to the project root).
Prints JSON lines; the last is the headline with keys decode_path_ms_p50 (a --steps
spherical path decoded through LatentSource's compiled call, median of --repeat),
predict_ms_p50 (the same path through the decoder's model.predict, interleaved in the same
run), encode_10k_s (LatentSource.encode of the 10,000 images, compiled already), and the
load average. floor_ms_p50 times the decoder's arithmetic alone (a jitted stateless_call
with its weights and the path already on the device, nothing converted):
floor_speedup_vs_predict = predict_ms_p50 / floor_ms_p50 bounds what any decode path
could gain over predict on this machine. external_decode_path_ms_p50 is the same path
through LatentSource.from_keras(model.encoder, model.decoder, x): the same decoder seen as
a Keras model a user brings (its logits detected, its own jitted call), against the same
floor (external_vs_floor; the goal is at most 1.5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import genwidgets  # noqa: F401  (sets the Keras backend before Keras is imported)

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1e3, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--train-steps", type=int, default=20)
    args = parser.parse_args()
    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        sys.exit(f"interp_latency: MNIST test images not found in {MNIST} (expected "
                 f"t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz there; see "
                 f"../shared/data/README.md).")

    from genwidgets.data import load_mnist
    from genwidgets.latent import LatentSource, path
    from genwidgets.decoding import sigmoid
    from genwidgets.registry import get_registry

    data = load_mnist(path=MNIST, split="test")
    spec = get_registry().model("vae")
    model = spec.build(spec.config(), data.info)
    batch = 128
    model.fit(data.x[:batch * args.train_steps], batch_size=batch, epochs=1, verbose=0)
    source = LatentSource(spec, model, data)
    print(json.dumps({"model": "vae", "architecture": getattr(model, "architecture", None),
                      "latent_dim": source.latent_dim, "images": len(data.x),
                      "train_steps": args.train_steps, "load_avg": load_average()}))

    start = time.perf_counter()
    z = source.encode(data.x)
    encode_cold = time.perf_counter() - start
    start = time.perf_counter()
    z = source.encode(data.x)
    encode_warm = time.perf_counter() - start
    print(json.dumps({"encode_10k_cold_s": round(encode_cold, 3),
                      "encode_10k_s": round(encode_warm, 3), "z_shape": list(z.shape)}))

    a, b = z[0], z[1]

    def ours():
        return source.decode(path(a, b, args.steps, mode="spherical"))

    def predict():
        zs = path(a, b, args.steps, mode="spherical")
        return sigmoid(model.decoder.predict(zs, verbose=0))

    external = LatentSource.from_keras(model.encoder, model.decoder, data.x)

    def external_decode():
        return external.decode(path(a, b, args.steps, mode="spherical"))

    def plugin_decode():
        return model.decode(path(a, b, args.steps, mode="spherical"))

    import jax

    decoder = model.decoder
    arithmetic = jax.jit(lambda tv, ntv, zs: decoder.stateless_call(tv, ntv, zs)[0])
    on_device = jax.device_put(path(a, b, args.steps, mode="spherical").astype("float32"))

    def floor():
        weights = ([v.value for v in decoder.trainable_variables],  # as they are now
                   [v.value for v in decoder.non_trainable_variables])
        return arithmetic(*weights, on_device).block_until_ready()

    floor()
    first = ours()  # compiles and checks the decoder once
    assert first.shape == (args.steps, 28, 28, 1), first.shape
    diff = float(abs(first - predict()).max())
    plugin_decode()
    external_diff = float(abs(external_decode() - first).max())
    traces = source._decoder.traces if source._decoder else None
    times: dict[str, list[float]] = {"ours": [], "predict": [], "plugin": [], "floor": [],
                                     "external": []}
    for i in range(args.repeat):  # interleaved: load hits each alike
        for name, fn in (("ours", ours), ("predict", predict), ("plugin", plugin_decode),
                         ("floor", floor), ("external", external_decode)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
        if i % 50 == 49:
            print(json.dumps({"repeat": i + 1, "decode_path_ms_p50": ms(times["ours"]),
                              "predict_ms_p50": ms(times["predict"]),
                              "model_decode_ms_p50": ms(times["plugin"]),
                              "external_decode_path_ms_p50": ms(times["external"])}))
    ours_ms, predict_ms = ms(times["ours"]), ms(times["predict"])
    print(json.dumps({
        "decode_path_ms_p50": ours_ms,
        "predict_ms_p50": predict_ms,
        "speedup_vs_predict": round(predict_ms / ours_ms, 2),
        "model_decode_ms_p50": ms(times["plugin"]),
        "floor_ms_p50": ms(times["floor"]),
        "floor_speedup_vs_predict": round(predict_ms / ms(times["floor"]), 2),
        "external_decode_path_ms_p50": ms(times["external"]),
        "external_vs_floor": round(ms(times["external"]) / ms(times["floor"]), 2),
        "external_compiled": external.compiled,
        "external_max_abs_diff": external_diff,
        "external_notes": external.notes,
        "decode_path_ms_p90": round(sorted(times["ours"])[int(0.9 * args.repeat)] * 1e3, 3),
        "encode_10k_s": round(encode_warm, 3),
        "encode_10k_cold_s": round(encode_cold, 3),
        "path_steps": args.steps, "repeat": args.repeat,
        "compiled": source.compiled, "decoder_traces": traces,
        "max_abs_diff_vs_predict": diff,
        "architecture": getattr(model, "architecture", None),
        "load_avg": load_average(),
    }))


if __name__ == "__main__":
    main()
