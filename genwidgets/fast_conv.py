"""Conv2DTranspose written as one matrix product and depth-to-space, for XLA on CPU.

On this CPU, XLA's transposed convolutions (convolutions of a dilated input) are the slow
part of a convolutional image net: in the VAE's conv net, the 4x4 stride-2 transposed
convolution of 64 to 32 channels took ~190 ms of CPU a training step (forward and
backward) against ~40 ms as a matrix product over the same numbers, and a training step
of the whole net went from ~270 to ~130 ms of CPU (benchmarks/conv_speed.py).
``FastConv2DTranspose`` is ``keras.layers.Conv2DTranspose``: same arguments, weights
(names and shapes) and config, so it saves and reloads like it (``safe_mode=True``); only
the arithmetic differs: one matrix product, then depth-to-space, whichever of two ways
keeps the intermediate smaller: the input's patches times the kernel regrouped into its
stride x stride phases (a sub-pixel convolution), or the input times the whole kernel
followed by a few shifted adds (overlap-add). It sums the same products in another order:
outputs agree within float32 rounding.

Plain convolutions stay Keras' own. Written as patches and one matrix product they were
no faster inside a training step here (the stride-2 32 to 64 filter convolution cost ~30
ms more a step), nor were XLA's CPU options (oneDNN, XNNPACK, single-threaded Eigen).
Written as space-to-depth, shifted slices and one matrix product, the VAE's 4x4 stride-2
convolutions were faster alone (batch 100, forward and backward: 1 to 32 channels 4.0 to
3.2 ms, 32 to 64 21.5 to 17.8 ms; a 3x3 kernel padded to 4x4 lost, 15 to 19 ms) but not
inside whole training steps (VAE 11.4-12.3 against 12.3-14.0 steps a second with Keras'
convolutions, GAN 20.3-20.9 against 20.1-21.6, the same process, a quiet machine).
Profiled (jax.profiler, the conv VAE, batch 100), that 32 to 64 convolution is 9-11 ms of
a 38-46 ms step: forward 3.7-4.3, kernel gradient 4.1-5.3, input gradient 1.0-1.1. Alone,
its kernel gradient as one matrix product of transposed patches took 3.0 ms against XLA's
3.9, its forward as patches times the kernel 2.3 against 3.4: 2-3 ms a step at most, not
pursued. Space-to-depth then XLA's own stride-1 2x2 convolution lost (17.8 against 16.0 ms).
The matrix path runs where it was measured to win, Keras on JAX on the CPU; elsewhere (an
accelerator, another backend, dilation, channels_first) the layer is Keras' own.
"""

from __future__ import annotations

import keras
from keras import ops


def matmul_path() -> bool:
    """Whether convolutions here go through the matrix product: JAX on the CPU."""
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "cpu"


def transpose_pads(size: int, kernel: int, stride: int, padding: str, output_padding):
    """(first output index in the full transposed convolution, output size), as Keras.

    The full transposed convolution of ``size`` inputs has ``(size - 1) * stride + kernel``
    outputs; Keras' ``padding`` / ``output_padding`` choose a window of it (the rule of
    keras.src.backend.common.backend_utils, the JAX backend's padding).
    """
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        lo, hi = kernel - 1, kernel - 1 + extra
    else:
        if output_padding is None:
            total = stride + kernel - 2
        else:
            total = kernel + kernel % 2 - 2 + output_padding
        lo = min(total // 2 + total % 2, kernel - 1)
        hi = total - lo
    return kernel - 1 - lo, (size - 1) * stride + 1 + lo + hi - kernel + 1


def conv2d_transpose(x, kernel, strides, padding: str, output_padding=None):
    """``ops.conv_transpose`` (NHWC, kernel (kh, kw, out, in)) as one matrix product."""
    kh, kw, f, c = kernel.shape
    (sh, sw), (_, h, w, _) = strides, x.shape
    ops_h, ops_w = (None, None) if output_padding is None else output_padding
    start_h, out_h = transpose_pads(h, kh, sh, padding, ops_h)
    start_w, out_w = transpose_pads(w, kw, sw, padding, ops_w)
    mh, mw = -(-kh // sh), -(-kw // sw)  # taps per phase (the kernel padded with zeros)
    kernel = ops.pad(kernel, ((0, mh * sh - kh), (0, mw * sw - kw), (0, 0), (0, 0)))
    kernel = ops.reshape(kernel, (mh, sh, mw, sw, f, c))
    hb, wb = h + mh - 1, w + mw - 1  # blocks of sh x sw outputs
    overlap = h * w * mh * mw * sh * sw * f  # the overlap-add's intermediate, per image
    if overlap <= hb * wb * mh * mw * c:  # input @ kernel, then shifted adds
        k = ops.reshape(ops.transpose(kernel, (5, 0, 2, 1, 3, 4)), (c, mh * mw * sh * sw * f))
        y = ops.reshape(ops.matmul(ops.reshape(x, (-1, c)), k),
                        (-1, h, w, mh, mw, sh * sw * f))
        blocks = None
        for a in range(mh):
            for b in range(mw):
                part = ops.pad(y[:, :, :, a, b, :], ((0, 0), (a, mh - 1 - a),
                                                     (b, mw - 1 - b), (0, 0)))
                blocks = part if blocks is None else blocks + part
    else:  # the input's patches @ the kernel grouped by phase (a sub-pixel convolution)
        x = ops.pad(x, ((0, 0), (mh - 1, mh - 1), (mw - 1, mw - 1), (0, 0)))
        cols = [x[:, mh - 1 - a:mh - 1 - a + hb, mw - 1 - b:mw - 1 - b + wb, :]
                for a in range(mh) for b in range(mw)]
        patches = ops.concatenate(cols, axis=-1) if len(cols) > 1 else cols[0]
        k = ops.reshape(ops.transpose(kernel, (0, 2, 5, 1, 3, 4)), (mh * mw * c, sh * sw * f))
        blocks = ops.matmul(ops.reshape(patches, (-1, mh * mw * c)), k)
    # depth-to-space: (n, hb, wb, sh, sw, f) -> (n, hb * sh, wb * sw, f)
    full = ops.reshape(ops.transpose(ops.reshape(blocks, (-1, hb, wb, sh, sw, f)),
                                     (0, 1, 3, 2, 4, 5)), (-1, hb * sh, wb * sw, f))
    return _pad_or_crop(full, -start_h, start_h + out_h - hb * sh,
                        -start_w, start_w + out_w - wb * sw)


def _pad_or_crop(x, top: int, bottom: int, left: int, right: int):
    """Pad (positive) or crop (negative) the two spatial sides of an NHWC tensor."""
    h, w = x.shape[1], x.shape[2]
    x = x[:, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0), :]
    if max(top, bottom, left, right) > 0:
        x = ops.pad(x, ((0, 0), (max(top, 0), max(bottom, 0)),
                        (max(left, 0), max(right, 0)), (0, 0)))
    return x


@keras.saving.register_keras_serializable(package="genwidgets")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` as one matrix product and depth-to-space on CPU."""

    def call(self, inputs):
        if (not matmul_path() or self.data_format != "channels_last"
                or tuple(self.dilation_rate) != (1, 1)):
            return super().call(inputs)
        outputs = conv2d_transpose(inputs, self.kernel, tuple(self.strides), self.padding,
                                   self.output_padding)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


CUSTOM_OBJECTS = {"FastConv2DTranspose": FastConv2DTranspose}
