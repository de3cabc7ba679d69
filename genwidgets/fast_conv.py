"""Strided convolutions and transposed convolutions as matrix products, for XLA on CPU.

On this CPU, XLA's transposed convolutions (convolutions of a dilated input) are the slow
part of a convolutional image net: in the VAE's conv net, the 4x4 stride-2 transposed
convolution of 64 to 32 channels took ~117 ms a training step (forward and backward, batch
100) against ~25 ms as a matrix product over the same numbers. ``FastConv2DTranspose`` is
``keras.layers.Conv2DTranspose``: same arguments, weights (names and shapes) and config, so
it saves and reloads like it (``safe_mode=True``); only the arithmetic differs: one matrix
product, then depth-to-space, whichever of two ways keeps the intermediate smaller: the
input's patches times the kernel regrouped into its stride x stride phases (a sub-pixel
convolution), or the input times the whole kernel followed by a few shifted adds
(overlap-add).

``FastConv2D`` is ``keras.layers.Conv2D`` the same way, for strides above 1 that divide the
kernel: space-to-depth turns a stride-s convolution into a stride-1 one over s x s blocks,
whose few shifted slices side by side meet the kernel in one matrix product (the VAE's 4x4
stride-2 convolutions, batch 100, forward and backward: 1 to 32 channels ~4.0 to ~3.2 ms,
32 to 64 ~21.5 to ~17.8 ms). A kernel that is not a multiple of the stride would be padded
with zeros to one (3x3 at stride 2: 16/9 of the products) and lost there (32 to 64
channels ~15 to ~19 ms), so it stays Keras' own; so did patches taken with XLA's patch
extraction, tried earlier. Both sum the same
products in another order: outputs agree within float32 rounding (tests/test_fast_conv.py).
XLA's CPU options (oneDNN, XNNPACK, single-threaded Eigen) did not help.

The matrix path runs where it was measured to win, Keras on JAX on the CPU; elsewhere (an
accelerator, another backend, dilation, groups, channels_first, a stride of 1 or one that
does not divide the kernel) the layers are Keras' own. benchmarks/conv_speed.py times a whole net both ways.
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


def conv_pads(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int]:
    """(padding before the first input, output size) of a convolution, as Keras/XLA."""
    if padding == "valid":
        return 0, (size - kernel) // stride + 1
    out = -(-size // stride)
    return max((out - 1) * stride + kernel - size, 0) // 2, out


def conv2d_strided(x, kernel, strides, padding: str):
    """``ops.conv`` (NHWC, kernel (kh, kw, in, out), strides > 1) as space-to-depth, the
    shifted slices of the result side by side, and one matrix product: a stride-s
    convolution of a k x k kernel is a stride-1 convolution of a ceil(k/s)^2 kernel over
    the input regrouped into s x s blocks (the kernel padded with zeros to whole blocks)."""
    kh, kw, c, f = kernel.shape
    (sh, sw), (_, h, w, _) = strides, x.shape
    lo_h, out_h = conv_pads(h, kh, sh, padding)
    lo_w, out_w = conv_pads(w, kw, sw, padding)
    mh, mw = -(-kh // sh), -(-kw // sw)  # taps per block
    hb, wb = out_h + mh - 1, out_w + mw - 1  # blocks the output reads
    x = _pad_or_crop(x, lo_h, hb * sh - h - lo_h, lo_w, wb * sw - w - lo_w)
    x = ops.reshape(ops.transpose(ops.reshape(x, (-1, hb, sh, wb, sw, c)),
                                  (0, 1, 3, 2, 4, 5)), (-1, hb, wb, sh * sw * c))
    kernel = ops.pad(kernel, ((0, mh * sh - kh), (0, mw * sw - kw), (0, 0), (0, 0)))
    kernel = ops.reshape(ops.transpose(ops.reshape(kernel, (mh, sh, mw, sw, c, f)),
                                       (0, 2, 1, 3, 4, 5)), (mh * mw * sh * sw * c, f))
    cols = [x[:, a:a + out_h, b:b + out_w, :] for a in range(mh) for b in range(mw)]
    patches = ops.concatenate(cols, axis=-1) if len(cols) > 1 else cols[0]
    y = ops.matmul(ops.reshape(patches, (-1, mh * mw * sh * sw * c)), kernel)
    return ops.reshape(y, (-1, out_h, out_w, f))


@keras.saving.register_keras_serializable(package="genwidgets")
class FastConv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` with strides as space-to-depth and one matrix product on
    CPU, where the stride divides the kernel (otherwise, and at stride 1, Keras' own)."""

    def call(self, inputs):
        if (not matmul_path() or self.data_format != "channels_last" or self.groups != 1
                or tuple(self.dilation_rate) != (1, 1) or tuple(self.strides) == (1, 1)
                or any(k % s for k, s in zip(self.kernel_size, self.strides))):
            return super().call(inputs)
        outputs = conv2d_strided(inputs, self.kernel, tuple(self.strides), self.padding)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs


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


CUSTOM_OBJECTS = {"FastConv2D": FastConv2D, "FastConv2DTranspose": FastConv2DTranspose}
