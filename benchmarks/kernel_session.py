"""A real IPython kernel for benchmarks: run code in it and see every IOPub message.

Widgets displayed in the kernel open comms, and each message they send to the front end
reaches this process on IOPub, where benchmarks count it.
"""

from __future__ import annotations

import collections
import json
import queue
import time


class KernelSession:
    def __init__(self):
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3")

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid

    def execute(self, code: str, timeout: float = 900) -> tuple[list[dict], list[tuple]]:
        """Run ``code``; return its printed JSON objects and (time, type, state keys) of the
        IOPub messages meanwhile (the keys say which widget traits a comm message updates)."""
        msg_id = self.client.execute(code)
        printed, seen = [], []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                msg = self.client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            kind, keys = msg["msg_type"], ""
            if kind == "comm_msg":
                data = msg["content"].get("data", {})
                keys = ",".join(sorted(data.get("state", {}))) or data.get("method", "")
            seen.append((time.monotonic(), kind, keys))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if kind == "stream":
                printed += [json.loads(line) for line in msg["content"]["text"].splitlines()
                            if line.startswith("{")]
            elif kind == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return printed, seen
        raise TimeoutError(code)

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def comm_messages(seen: list[tuple]) -> list[str]:
    return [keys for _, kind, keys in seen if kind == "comm_msg"]


def top_keys(messages: list[str], n: int = 6) -> dict[str, int]:
    return dict(collections.Counter(messages).most_common(n))
