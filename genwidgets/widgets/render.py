"""Pictures and text for views: image grids as PNG, token ids as escaped HTML lines."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

# A 1x1 transparent PNG: what an image view holds before it has something to show (an
# empty W.Image draws the browser's broken-image icon).
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR4nGNgYAAAAAMAAbitOmMAAAAASUVORK5CYII=")


def image_grid_png(images, cols: int | None = None, scale: int = 3, pad: int = 1) -> bytes:
    """Tile (N, H, W, C) images in [0, 1] into one PNG (grey or RGB)."""
    from PIL import Image

    imgs = np.clip(np.asarray(images, dtype="float32"), 0.0, 1.0)
    if imgs.ndim == 3:
        imgs = imgs[..., None]
    n, h, w, c = imgs.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), "float32")
    for i in range(n):
        r, k = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + k * (w + pad)
        grid[top:top + h, left:left + w] = imgs[i]
    grid = (grid * 255).astype("uint8")
    grid = grid[..., 0] if c == 1 else grid
    picture = Image.fromarray(grid)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return buf.getvalue()


# Lines wrap inside their panel (a long sentence never runs off its edge), and a long list
# scrolls in a box of its own instead of pushing what follows below the fold.
WRAP = "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word"


def text_lines_html(lines, css_class: str = "gw-text-lines", max_height: str = "16em") -> str:
    items = "".join(f'<li><code style="{WRAP}">{html.escape(line) or "&nbsp;"}</code></li>'
                    for line in lines)
    return (f'<ol class="{css_class}" style="max-height:{max_height};overflow-y:auto;'
            f'margin:0;padding-left:2.2em;max-width:100%;box-sizing:border-box">{items}</ol>')
