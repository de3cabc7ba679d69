"""Sentence paths on WordNet's usage examples: the text AE, VAE and Transformer, each with
its default settings.

    python benchmarks/text_paths.py                      # each model 600 s (~35 min on CPU)
    python benchmarks/text_paths.py --model vae --seconds 120 --set vae.latent_dim=64
    python benchmarks/text_paths.py --quick --model ae    # smoke run, ~20 s of training

Protocol ("sentence paths", ../shared/data/README.md; the figures are computed by
``genwidgets.latent.text_paths``): line i of ``text/wordnet_examples.txt`` is held out when
i % 10 == 9. Each model trains through a real ``Run`` on the training split (the built-in
``sentences`` dataset with ``split="train"``, or the same split built here while that
dataset does not exist) for at most ``--seconds`` of wall-clock training: the clock starts
when the first step (which holds the compile) is done, and evaluation is not counted.
Then: 64 training endpoints and the 64 held-out ones (32 pairs) are reconstructed, the 8
decodes between each pair's posterior means are scored, and the held-out sentences give the
KL per sentence and the nats per character. Decoding is what the latent views show
(``LatentSource.decode``): a parallel decoder's logits plus ``--lm-weight`` times the
training text's token trigrams (``genwidgets.latent.piece_lm``), the likeliest sequence, no
sampling; an ``argmax`` line before each result gives the figures of each position's
argmax alone.

``m_val_nats_per_char`` is the negative ELBO (reconstruction with one posterior sample, plus
the analytic KL) of all held-out sentences over their characters (each sentence's encoded
characters plus its end token); for the deterministic AE it is the reconstruction
cross-entropy alone, and ``m_val_nats_kind`` says so. ``m_real_words_middle`` (secondary)
is the real-words share of the middle points p_3 and p_4 alone, where a path's non-words
sit; ``m_real_sentences_middle`` (secondary) the share of those middle sentences made only
of real words, what a reader halfway sees. Prints JSON lines; the last one is the headline.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import genwidgets  # noqa: F401  (sets the Keras backend before keras is imported)
from genwidgets.latent import text_paths as tp
from genwidgets.latent.piece_lm import WEIGHT as LM_WEIGHT

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SENTENCES = DATA / "text" / "wordnet_examples.txt"
MODELS = ("ae", "vae", "transformer")
SHOWN_PAIRS = (0, 1, 2)  # the pairs whose whole paths are printed
MAX_EPOCHS = 1000  # the run's goal; the time budget ends it long before
EVAL_BATCH = 64
QUICK_SENTENCES, QUICK_SECONDS, QUICK_HELDOUT = 512, 20.0, 256
# a spec may recommend a text batch size; the first of these it has is used
BATCH_ATTRIBUTES = ("text_batch_size", "recommended_text_batch_size",
                    "recommended_batch_size", "batch_size")
DEFAULT_BATCH = 64


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


# -- data: one place to switch to the built-in dataset ------------------------------------
def training_data(args, split: tp.ProtocolSentences):
    """``(dataset, data_options, where)``: the protocol's training sentences for a Run.

    The built-in ``sentences`` dataset (``split="train"``, with ``--tokens`` and
    ``--vocab-size`` when given) if it is registered, else the same split built here with
    the character tokenizer (a fallback until that dataset ships).
    """
    from genwidgets.registry import get_registry

    registry = get_registry()
    options = {"split": "train"}
    if args.tokens is not None:
        options["tokens"] = args.tokens
    if args.vocab_size is not None:
        options["vocab_size"] = args.vocab_size
    if "sentences" in registry.datasets:
        spec = registry.dataset("sentences")
        if args.quick and "limit" in spec.options:
            options["limit"] = QUICK_SENTENCES
        dataset, where = spec.load(**options), "built-in dataset 'sentences'"
    else:
        dataset, options = _build_split(args, split.train), {}
        where = f"built here from {SENTENCES.name} (no 'sentences' dataset registered)"
    if args.quick and len(dataset.x) > QUICK_SENTENCES:
        dataset = dataclasses.replace(
            dataset, x=dataset.x[:QUICK_SENTENCES],
            info=dataclasses.replace(dataset.info, n_items=QUICK_SENTENCES))
    return dataset, options, where


def _build_split(args, sentences: list[str]):
    from genwidgets.data import CharTokenizer
    from genwidgets.spec import DataInfo, Dataset

    if args.tokens not in (None, "char"):
        raise SystemExit(f"text_paths: --tokens {args.tokens} needs the built-in 'sentences' "
                         f"dataset, which is not registered; only characters work without it")
    # the 95th percentile of the lengths plus the end token, between 8 and 128
    seq_len = max(8, min(128, int(np.ceil(np.percentile([len(s) for s in sentences], 95))) + 1))
    items = [s[:seq_len - 1] for s in sentences]
    tokenizer = CharTokenizer.fit(items, max_vocab=args.vocab_size)
    info = DataInfo(name="wordnet_examples", modality="text", shape=(seq_len,),
                    n_items=len(items), vocab=tokenizer.vocab)
    return Dataset(x=tokenizer.encode(items, seq_len), info=info, tokenizer=tokenizer)


# -- settings -----------------------------------------------------------------------------
def overrides(name: str, spec, assignments: dict[str, str]) -> dict[str, str]:
    """The ``--set`` values for model ``name``: ``key=v`` for every model whose Config has
    the key, ``name.key=v`` for this one only."""
    fields = {f.name for f in dataclasses.fields(spec.Config)}
    out = {}
    for key, value in assignments.items():
        model, _, field = key.rpartition(".")
        if model and model != name:
            continue
        if field in fields:
            out[field] = value
        elif model:
            raise SystemExit(f"text_paths: {name} has no setting {field!r}. Expected one of "
                             f"{sorted(fields)}. Received: --set {key}={value}")
    return out


def check_assignments(specs: dict, assignments: dict[str, str]) -> None:
    for key, value in assignments.items():
        model, _, field = key.rpartition(".")
        if model and model not in specs:
            raise SystemExit(f"text_paths: --set {key}={value} names model {model!r}, which "
                             f"is not run. Expected one of {sorted(specs)}")
        if not model and not any(field in {f.name for f in dataclasses.fields(s.Config)}
                                 for s in specs.values()):
            raise SystemExit(f"text_paths: no model run has a setting {field!r}. Received: "
                             f"--set {key}={value}")


def batch_size(spec, asked: int | None) -> tuple[int, str]:
    """``--batch-size``, else the spec's recommended text batch size, else 64."""
    if asked is not None:
        return asked, "--batch-size"
    for attr in BATCH_ATTRIBUTES:
        value = getattr(spec, attr, None)
        if isinstance(value, Mapping):
            value = value.get("text")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value, f"{type(spec).__name__}.{attr}"
    return DEFAULT_BATCH, "default"


# -- training -----------------------------------------------------------------------------
def train_for(run, seconds: float, poll: float = 0.1) -> dict:
    """Start ``run``, let it train ``seconds`` after its first step, stop it, wait."""
    t_start = time.time()
    run.start()
    while run.alive and not run.history:
        time.sleep(poll)
    first = run.history[0]["t"] if run.history else time.time()
    while run.alive and time.time() - first < seconds:
        time.sleep(min(poll, max(0.0, seconds - (time.time() - first))))
    run.stop()
    run.wait()
    if run.state == "failed" or not run.history:
        raise RuntimeError(f"the run {run.state}: {run.message}\n{run.traceback}")
    rows = run.history
    span = rows[-1]["t"] - rows[0]["t"]  # the steps after the first (which compiled)
    return {"steps": run.steps, "train_seconds": round(span, 1),
            "steps_per_s": round((len(rows) - 1) / span, 2) if span > 0 else 0.0,
            "compile_seconds": round(rows[0]["t"] - t_start, 1),
            "epochs": round(run.steps / run.steps_per_epoch, 2), "state": run.state,
            "message": run.message,
            "last_logs": {k: round(float(v), 4) for k, v in rows[-1].items()
                          if k not in ("step", "epoch", "t")}}


# -- held-out nats --------------------------------------------------------------------
def _batched(fn, x: np.ndarray, size: int = EVAL_BATCH):
    """``fn`` on fixed-size batches (the last padded), results concatenated per output."""
    outs = []
    for start in range(0, len(x), size):
        chunk = x[start:start + size]
        pad = size - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        outs.append([np.asarray(a)[:size - pad] for a in fn(chunk)])
    return [np.concatenate(parts) for parts in zip(*outs)]


def posterior(model, x):
    """``(mean, log_var)`` of q(z|x), or None for a deterministic encoder."""
    if hasattr(model, "posterior"):
        return tuple(np.asarray(a, "float64") for a in model.posterior(x))
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        return None
    out = encoder.predict_on_batch(x[:1])
    if not (isinstance(out, (list, tuple)) and len(out) == 2):
        return None
    mean, log_var = _batched(encoder.predict_on_batch, x)
    return mean.astype("float64"), log_var.astype("float64")


def reconstruction_nats(model, x) -> np.ndarray:
    """Summed cross-entropy of each sentence's tokens (PAD excluded): the model's
    ``elbo_terms`` if it has them, else the logits of its own call (one posterior sample).
    A word-slot model (``word_slots``) says its end slot is empty: scored against PAD."""
    from genwidgets.spec import EOS, PAD

    if hasattr(model, "elbo_terms"):
        return np.asarray(model.elbo_terms(x)["reconstruction"], "float64")

    slots = bool(getattr(model, "word_slots", False))

    def run(chunk):
        out = model.predict_on_batch(chunk)
        logits = np.asarray(out[0] if isinstance(out, (list, tuple)) else out, "float64")
        if logits.shape[:2] != chunk.shape or logits.ndim != 3:
            raise ValueError(f"Expected the model's call to give logits (n, seq_len, vocab). "
                             f"Received: shape {logits.shape}")
        shifted = logits - logits.max(-1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        target = np.where(chunk == EOS, PAD, chunk) if slots else chunk
        nll = -np.take_along_axis(logp, target[..., None].astype("int64"), -1)[..., 0]
        return [(nll * (chunk != PAD)).sum(1)]

    return _batched(run, x)[0]


def heldout_nats(model, x, tokenizer) -> dict:
    q = posterior(model, x)
    if q is None:
        kl, kind = np.zeros(len(x)), "reconstruction cross-entropy (deterministic AE: no KL)"
    else:
        mean, log_var = q
        kl = 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=-1)
        kind = "negative ELBO (reconstruction, one posterior sample, + KL)"
    rec = reconstruction_nats(model, x)
    chars = sum(len(s) + 1 for s in tokenizer.decode(x))  # characters + one end token each
    return {"kl_nats": float(kl.mean()), "val_nats_per_char": float((rec + kl).sum() / chars),
            "val_reconstruction_nats_per_char": float(rec.sum() / chars),
            "val_nats_kind": kind, "val_sentences": len(x), "val_chars": chars}


# -- one model ----------------------------------------------------------------------------
def run_model(name: str, spec, args, dataset, options, split, vocabulary, out: Path) -> dict:
    import keras

    from genwidgets.latent.source import LatentSource
    from genwidgets.training.run import Run

    settings = overrides(name, spec, args.assignments)
    config = spec.config_for("text", **settings)
    size, size_from = batch_size(spec, args.batch_size)
    folder = out / name
    if folder.exists() and any(folder.iterdir()):
        raise SystemExit(f"text_paths: {folder} is not empty. Expected a new folder for the "
                         f"run (a run folder holds someone's training; it is never reset)")
    keras.utils.set_random_seed(args.seed)
    # checkpoints: the one at the first epoch's end and the one at stop, not every 30 s
    run = Run(spec, dataset, config, epochs=MAX_EPOCHS, batch_size=size, out=folder,
              data_options=options, seed=args.seed, checkpoint_every_s=1e9,
              checkpoint_mid_epoch_s=1e9)
    emit(event="built", model=name, batch_size=size, batch_size_from=size_from,
         set=settings, config=dataclasses.asdict(config))
    stats = train_for(run, args.seconds)
    stats["params"] = int(sum(np.prod(v.shape) for v in run.model.trainable_weights))
    emit(event="trained", model=name, **stats)
    t0 = time.monotonic()
    model, tokenizer, seq_len = run.model, dataset.tokenizer, dataset.info.seq_len
    # decoded as the latent views decode (a parallel decoder's logits with the data's
    # token trigrams, weight --lm-weight); the plain argmax's figures are printed too
    source = LatentSource(spec, model, dataset)
    source.lm_weight = 0.0
    argmax = tp.evaluate(tp.TextCodec.of(source), split, vocabulary)
    emit(event="argmax", model=name, **{f"{name}_{k}": round(v, 4) for k, v in argmax.items()
                                        if isinstance(v, float)})
    source.lm_weight = args.lm_weight
    figures = tp.evaluate(tp.TextCodec.of(source), split, vocabulary)
    held = split.heldout[:QUICK_HELDOUT] if args.quick else split.heldout
    nats = heldout_nats(model, tokenizer.encode(held, seq_len), tokenizer)
    for k in SHOWN_PAIRS:
        if k < len(split.pairs):
            a, b = split.pairs[k]
            emit(event="path", model=name, pair=k, A=a, B=b, path=figures["paths"][k])
    m = name
    return {
        f"{m}_endpoint_exact_train": round(figures["endpoint_exact_train"], 4),
        f"{m}_endpoint_exact_heldout": round(figures["endpoint_exact_heldout"], 4),
        f"{m}_char_acc_heldout": round(figures["char_acc_heldout"], 4),
        f"{m}_distinct": round(figures["distinct"], 3),
        f"{m}_straightness": round(figures["straightness"], 4),
        f"{m}_toward_b": round(figures["toward_b"], 4),
        f"{m}_real_words": round(figures["real_words"], 4),
        f"{m}_kl_nats": round(nats["kl_nats"], 3),
        f"{m}_val_nats_per_char": round(nats["val_nats_per_char"], 4),
        f"{m}_train_seconds": stats["train_seconds"],
        f"{m}_steps_per_s": stats["steps_per_s"],
        f"{m}_val_nats_kind": nats["val_nats_kind"],
        f"{m}_val_reconstruction_nats_per_char": round(
            nats["val_reconstruction_nats_per_char"], 4),
        f"{m}_char_acc_train": round(figures["char_acc_train"], 4),
        f"{m}_real_words_middle": round(figures["real_words_middle"], 4),
        f"{m}_real_sentences_middle": round(figures["real_sentences_middle"], 4),
        f"{m}_steps": stats["steps"],
        f"{m}_epochs": stats["epochs"],
        f"{m}_compile_seconds": stats["compile_seconds"],
        f"{m}_eval_seconds": round(time.monotonic() - t0, 1),
        f"{m}_batch_size": size,
        f"{m}_params": stats["params"],
        f"{m}_set": settings,
        f"{m}_lm_weight": args.lm_weight,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODELS, action="append",
                        help="run this model (repeat for more; default: all three in turn)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="training time per model after the first step (default 600)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_SENTENCES} sentences, {QUICK_SECONDS:g} s a model")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: the spec's recommended text batch size, else 64")
    parser.add_argument("--tokens", default=None,
                        help="the dataset's tokens option (char, subword); default: its own")
    parser.add_argument("--vocab-size", type=int, default=None,
                        help="the dataset's vocab_size option; default: its own")
    parser.add_argument("--set", action="append", default=[], metavar="[MODEL.]KEY=VALUE",
                        help="override a setting: latent_dim=64 (every model that has it) "
                             "or vae.free_bits=0.5 (one model)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batch order")
    parser.add_argument("--lm-weight", type=float, default=LM_WEIGHT,
                        help="weight of the data's token trigrams in decoding a parallel "
                             f"decoder (genwidgets.latent.piece_lm; default {LM_WEIGHT}, "
                             "0 = each position's argmax)")
    parser.add_argument("--out", default=None,
                        help="write each model's run folder to OUT/<model> (default: a "
                             "temporary folder, removed at the end)")
    args = parser.parse_args(argv)
    if not SENTENCES.is_file():
        print(f"text_paths: {SENTENCES} is missing. Expected WordNet's usage examples at "
              f"../shared/data/text/wordnet_examples.txt (see ../shared/data/README.md).",
              file=sys.stderr)
        return 2
    if args.seconds is None:
        args.seconds = QUICK_SECONDS if args.quick else 600.0
    from genwidgets.config import parse_assignments
    from genwidgets.registry import get_registry

    names = list(dict.fromkeys(args.model or MODELS))
    registry = get_registry()
    specs = {name: registry.model(name) for name in names}
    args.assignments = parse_assignments(args.set)
    check_assignments(specs, args.assignments)

    split = tp.protocol_sentences(SENTENCES.read_text(encoding="utf-8").splitlines())
    vocabulary = tp.word_vocabulary(split.train)
    dataset, options, where = training_data(args, split)
    tokenizer = dataset.tokenizer
    emit(event="data", source=where, options=options, train_items=len(dataset.x),
         protocol_train=len(split.train), protocol_heldout=len(split.heldout),
         first_items_match=tokenizer.decode(dataset.x[:3]) == split.train[:3],
         seq_len=dataset.info.seq_len, vocab_size=dataset.info.vocab_size,
         tokenizer=type(tokenizer).__name__, endpoints=len(split.endpoints),
         pairs=len(split.pairs), vocabulary_words=len(vocabulary))

    load_start = os.getloadavg()
    headline = {"quick": args.quick, "seconds": args.seconds, "models": names}
    with tempfile.TemporaryDirectory(prefix="text_paths-") as tmp:
        out = Path(args.out) if args.out else Path(tmp)
        for name in names:
            result = run_model(name, specs[name], args, dataset, options, split,
                               vocabulary, out)
            emit(event="result", model=name, **result)
            headline.update(result)
    headline.update(data=where, train_items=len(dataset.x), seq_len=dataset.info.seq_len,
                    vocab_size=dataset.info.vocab_size, out=args.out,
                    load_avg=[round(v, 2) for v in load_start],
                    load_avg_end=[round(v, 2) for v in os.getloadavg()],
                    cpu_s=round(time.process_time(), 1))
    emit(**headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
