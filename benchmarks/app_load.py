"""How fast `genwidgets studio` opens: page request to a usable Studio in headless Chromium.

    python benchmarks/app_load.py [--repeat 2]

Starts the real command (Voila on 127.0.0.1), then per repeat opens a fresh page and times
it from the request to the moment the Train button is enabled and the loss plot is drawn
(`ready_s`, goal <= 10), once the app has a pre-heated kernel ready (as it has a few
seconds after it starts). Every websocket frame the page receives is measured: the largest
one before ready is the widget states' reply (`first_message_mb`, goal < 8), and the
kernel's resident memory is read once the Studio is shown (`kernel_rss_mb`, goal <= 1500).
Prints JSON lines; the last is the headline (medians over repeats).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.harness import launch_chromium  # noqa: E402
from tests.browser.voila import StudioServer  # noqa: E402

READY = """() => {
  const train = document.querySelector('.gw-studio .gw-train-panel button.gw-train');
  const plot = document.querySelector('.gw-studio .gw-loss-plot .js-plotly-plot');
  return !!train && !train.disabled && !!plot;
}"""
MB = 1024 * 1024


def load_once(context, server: StudioServer) -> dict:
    server.wait_quiet()  # the pre-heated kernel has shown the Studio
    page = context.new_page()
    frames: list[tuple[float, int]] = []  # (time, bytes) of every frame received
    kernel_ids: list[str] = []

    def on_socket(ws):
        kernel_ids.extend(re.findall(r"/api/kernels/([0-9a-f-]+)/channels", ws.url))
        ws.on("framereceived", lambda payload: frames.append(
            (time.perf_counter(), len(payload.encode() if isinstance(payload, str)
                                      else payload))))

    page.on("websocket", on_socket)
    start = time.perf_counter()
    page.goto(server.url, wait_until="commit")
    page.wait_for_function(READY, polling=100, timeout=120_000)
    ready = time.perf_counter()
    before = [size for t, size in frames if t <= ready]
    kernel = server.kernel(kernel_ids[0]) if kernel_ids else None
    rss = kernel.memory_info().rss / MB if kernel is not None else float("nan")
    result = {
        "ready_s": round(ready - start, 2),
        "first_message_mb": round(max(before, default=0) / MB, 2),
        "received_before_ready_mb": round(sum(before) / MB, 2),
        "frames_before_ready": len(before),
        "kernel_rss_mb": round(rss, 1),  # the page's kernel
        "kernels_running": len(server.kernels()),  # with the next one being pre-heated
    }
    page.close()  # Voila's page shuts its kernel down as it unloads
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="app-load-") as tmp:
        server = StudioServer(Path(tmp)).start()
        try:
            with sync_playwright() as playwright:
                context = launch_chromium(playwright, Path(tmp) / "profile")
                results = []
                for i in range(args.repeat):
                    results.append(load_once(context, server))
                    print(json.dumps({"repeat": i, **results[-1]}), flush=True)
                context.close()
        finally:
            server.stop()
    keys = ("ready_s", "first_message_mb", "received_before_ready_mb", "kernel_rss_mb")
    print(json.dumps({k: statistics.median(r[k] for r in results) for k in keys}
                     | {"repeat": args.repeat,
                        "goals": {"ready_s": 10, "first_message_mb": 8, "kernel_rss_mb": 1500}}))


if __name__ == "__main__":
    main()
