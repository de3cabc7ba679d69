"""Text quality on tiny Shakespeare: the Transformer VAE and the text VAE.

    python benchmarks/quality_text.py            # full protocol (about 10 + 5 minutes on CPU)
    python benchmarks/quality_text.py --quick    # smoke run, seconds

Protocol (../shared/data/README.md): the first 90% of characters train, the last 10%
validate; the figure is validation nats per character. Items are whole lines packed
greedily into at most ``seq_len - 1`` characters (joined by their newlines); the newline
that ends an item becomes its EOS, so the nats are counted over every character of the
validation text exactly once (EOS included, PAD excluded).

``val_nats_per_char`` is the Transformer's negative ELBO per character (one posterior
sample of z per item; reconstruction + KL, never a reconstruction alone). ``vae_kl_nats``
is the text VAE's mean KL per item on the validation items. Prints JSON lines; the last
one is the headline.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
import keras  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
TEXT = DATA / "text" / "tinyshakespeare.txt"
PATH_STEPS = 8
STEPS_PER_EXECUTION = 10  # steps run between callbacks (the learning rate changes between)


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def pack_lines(text: str, max_chars: int) -> list[str]:
    """Consecutive whole lines joined by newlines, each item at most ``max_chars`` long.

    A line longer than ``max_chars`` is cut into pieces. An item's last newline is not
    kept: its EOS stands for it.
    """
    lines = text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
    pieces = [ln[i:i + max_chars] for ln in lines for i in range(0, max(len(ln), 1), max_chars)]
    items, current = [], None
    for piece in pieces:
        if current is not None and len(current) + 1 + len(piece) <= max_chars:
            current += "\n" + piece
        else:
            if current is not None:
                items.append(current)
            current = piece
    items.append(current)
    return items


class TimeBudget(keras.callbacks.Callback):
    """Stop training after ``seconds``; warm up, then cosine-decay the learning rate by time
    (so the schedule fits the budget whatever the machine's load)."""

    def __init__(self, seconds: float, peak_lr: float, warmup_steps: int = 100,
                 floor: float = 0.05):
        super().__init__()
        self.seconds, self.peak_lr = seconds, peak_lr
        self.warmup_steps, self.floor = warmup_steps, floor
        self.start, self.steps = time.monotonic(), 0

    def on_train_batch_begin(self, batch, logs=None):
        # called once per execution (STEPS_PER_EXECUTION steps)
        progress = min(1.0, (time.monotonic() - self.start) / self.seconds)
        warm = min(1.0, (self.steps + 1) / self.warmup_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        lr = self.peak_lr * warm * (self.floor + (1 - self.floor) * cosine)
        self.model.jax_state_sync()  # let the next step pick up the new rate
        self.model.optimizer.learning_rate.assign(lr)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = self.steps

    def on_train_batch_end(self, batch, logs=None):
        self.steps = self.epoch_start + batch + 1  # ``batch``: the last step run, from 0
        if time.monotonic() - self.start >= self.seconds:
            self.model.stop_training = True


def train(model, x, batch_size: int, seconds: float, peak_lr: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    x = x[rng.permutation(len(x))]
    x = x[: len(x) - len(x) % batch_size]
    budget = TimeBudget(seconds, peak_lr)
    # ten steps between callbacks: fewer round trips between Python and the device (5.2 to
    # 5.7 steps a second at batch 16 in a 300-step timing here)
    model.steps_per_execution = STEPS_PER_EXECUTION
    start = time.monotonic()
    history = model.fit(x, batch_size=batch_size, epochs=10_000, verbose=0, shuffle=True,
                        callbacks=[budget])
    elapsed = time.monotonic() - start
    last = {k: round(float(v[-1]), 4) for k, v in history.history.items()}
    return {"steps": budget.steps, "seconds": round(elapsed, 1),
            "epochs": round(budget.steps * batch_size / len(x), 2),
            "steps_per_s": round(budget.steps / elapsed, 2), "last_epoch_logs": last}


def path_between(model, tokenizer, a: str, b: str, seq_len: int) -> list[str]:
    """Greedy decodes of PATH_STEPS points on the line between the latents of ``a``, ``b``."""
    z = model.encode(tokenizer.encode([a, b], seq_len))
    alphas = np.linspace(0.0, 1.0, PATH_STEPS, dtype="float32")[:, None]
    return tokenizer.decode(model.decode((1 - alphas) * z[0] + alphas * z[1]))


def pick_pairs(val_text: str) -> list[tuple[str, str]]:
    """Two pairs of validation lines (30 to 60 characters) to walk between."""
    lines = [ln for ln in val_text.split("\n")[1:] if 30 <= len(ln) <= 60 and ln[0].isupper()]
    n = len(lines)
    return [(lines[0], lines[n // 2]), (lines[n // 4], lines[3 * n // 4])]


def paths(model_name: str, model, tokenizer, pairs, seq_len: int) -> list[list[str]]:
    out = []
    for k, (a, b) in enumerate(pairs):
        path = path_between(model, tokenizer, a, b, seq_len)
        for i, line in enumerate(path):
            emit(event="path", model=model_name, path=k, step=i, text=line)
        out.append(path)
    return out


def run_transformer(args, x_train, x_val, info, tokenizer, pairs) -> dict:
    from genwidgets.registry import get_registry

    spec = get_registry().model("transformer")
    config = spec.config(**args.transformer)
    model = spec.build(config, info)
    emit(event="transformer_built", params=int(model.count_params()), config=args.transformer)
    stats = train(model, x_train, args.batch_size, args.seconds, config.learning_rate, 0)
    emit(event="transformer_trained", **stats)
    terms = model.elbo_terms(x_val)
    chars = terms["count"].sum()
    result = {
        "val_nats_per_char": float((terms["reconstruction"].sum() + terms["kl"].sum()) / chars),
        "val_reconstruction_nats_per_char": float(terms["reconstruction"].sum() / chars),
        "transformer_kl_nats": float(terms["kl"].mean()),
        "transformer_train_seconds": stats["seconds"],
        "transformer_steps": stats["steps"],
        "transformer_steps_per_s": stats["steps_per_s"],
        "transformer_params": int(model.count_params()),
    }
    result["transformer_paths"] = paths("transformer", model, tokenizer, pairs, info.seq_len)
    samples = tokenizer.decode(model.sample(3, seed=0, temperature=0.8))
    emit(event="samples", model="transformer", temperature=0.8, texts=samples)
    return result


def run_vae(args, x_train, x_val, info, tokenizer, pairs) -> dict:
    from genwidgets.registry import get_registry

    try:
        spec = get_registry().model("vae")
        config = spec.config(**args.vae)
        model = spec.build(config, info)
    except Exception as exc:  # the plugin is missing or cannot build text models
        return {"vae_kl_nats": None, "vae_status": f"missing: {type(exc).__name__}: {exc}"}
    batch = args.vae_batch_size
    stats = train(model, x_train, batch, args.vae_seconds, config.learning_rate, 1)
    emit(event="vae_trained", **stats)
    n = len(x_val) - len(x_val) % batch
    logs = model.evaluate(x_val[:n], batch_size=batch, verbose=0, return_dict=True)
    chars = float((x_val[:n] != 0).sum())
    result = {
        "vae_kl_nats": float(logs["kl"]),
        "vae_val_nats_per_char": float((logs["reconstruction"] + logs["kl"]) * n / chars),
        "vae_train_seconds": stats["seconds"],
        "vae_steps": stats["steps"],
        "vae_status": "ok",
    }
    result["vae_paths"] = paths("vae", model, tokenizer, pairs, info.seq_len)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--seconds", type=float, default=600, help="Transformer training time")
    parser.add_argument("--vae-seconds", type=float, default=300, help="text VAE training time")
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8, help="Transformer batch")
    parser.add_argument("--vae-batch-size", type=int, default=32, help="text VAE batch")
    parser.add_argument("--skip-vae", action="store_true")
    parser.add_argument("--skip-transformer", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a Transformer setting, e.g. --set decoder_layers=3")
    parser.add_argument("--vae-set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a text VAE setting, e.g. --vae-set rnn_units=128")
    parser.add_argument("--out", default="artifacts/", help="unused: this benchmark writes no files")
    args = parser.parse_args(argv)
    if not TEXT.is_file():
        print(f"quality_text: {TEXT} is missing. Expected tiny Shakespeare at "
              f"../shared/data/text/tinyshakespeare.txt (see ../shared/data/README.md).",
              file=sys.stderr)
        return 2
    args.transformer = dict(d_model=128, num_heads=4, encoder_layers=1, decoder_layers=4,
                            latent_dim=16, local_mix=3, free_bits=0.1, kl_warmup_steps=300,
                            learning_rate=3e-3, dropout=0.15)
    args.vae = {}
    from genwidgets.config import parse_assignments

    text = TEXT.read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    train_text, val_text = text[:cut], text[cut:]
    if args.quick:
        train_text, val_text = train_text[:30_000], val_text[:4_000]
        args.seconds = args.vae_seconds = 8
        args.seq_len, args.batch_size, args.vae_batch_size = 64, 16, 16
        args.transformer.update(d_model=32, decoder_layers=1, latent_dim=4)
        args.vae = {"rnn_units": 32, "embed_dim": 16, "latent_dim": 4}
    from genwidgets.data.text import CharTokenizer
    from genwidgets.spec import DataInfo

    keras.utils.set_random_seed(0)  # weights and dropout draws repeat from run to run
    args.transformer.update(parse_assignments(args.set))
    args.vae.update(parse_assignments(args.vae_set))
    tokenizer = CharTokenizer.fit([train_text])
    train_items = pack_lines(train_text, args.seq_len - 1)
    val_items = pack_lines(val_text, args.seq_len - 1)
    x_train = tokenizer.encode(train_items, args.seq_len)
    x_val = tokenizer.encode(val_items, args.seq_len)
    info = DataInfo("tinyshakespeare", "text", (args.seq_len,), len(x_train),
                    vocab=tuple(tokenizer.vocab))
    counted = int((x_val != 0).sum())
    emit(event="data", vocab_size=len(tokenizer.vocab), train_items=len(x_train),
         val_items=len(x_val), val_chars=len(val_text), val_counted=counted,
         items=f"whole lines packed into <= {args.seq_len - 1} chars; the item's final "
               f"newline is its EOS; nats over all chars incl. EOS, PAD excluded")
    pairs = pick_pairs(val_text)
    load_start = os.getloadavg()
    headline = {"quick": args.quick}
    if args.skip_transformer:
        headline.update(val_nats_per_char=None, transformer_status="skipped")
    else:
        headline.update(run_transformer(args, x_train, x_val, info, tokenizer, pairs))
    if args.skip_vae:
        headline.update(vae_kl_nats=None, vae_status="skipped (--skip-vae)")
    else:
        headline.update(run_vae(args, x_train, x_val, info, tokenizer, pairs))
    headline.update(path_ends=[list(pair) for pair in pairs],
                    load_avg=[round(v, 2) for v in load_start],
                    load_avg_end=[round(v, 2) for v in os.getloadavg()],
                    cpu_s=round(time.process_time(), 1), seq_len=args.seq_len,
                    batch_size=args.batch_size, vae_batch_size=args.vae_batch_size)
    emit(**headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
