"""Bounded reads for every loader: a FIFO, a device or a folder is refused before a byte is
read, a file over the cap is refused naming the cap, and a gzip bomb in IDX form (or an
IDX header claiming more than its data) is a clear DataError, not a hang or a MemoryError.

Each refusal runs in a fresh process under a timeout, so a hang (a FIFO opened for
reading blocks until a writer comes) fails the test instead of stalling the suite.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest

from genwidgets.registry import load_dataset
from genwidgets.data.files import MAX_BYTES, read_bytes
from genwidgets.data.images import read_idx
from genwidgets.data.validate import DataError

TIMEOUT = 60  # seconds; a refusal takes well under one


def refusal(call: str, tmp_path) -> str:
    """Run ``call`` (a loader call) in a fresh process; the DataError's message."""
    code = textwrap.dedent(f"""
        import json, genwidgets
        from genwidgets.registry import load_dataset
        from genwidgets.data.images import read_idx
        from genwidgets.data.validate import DataError
        try:
            {call}
        except DataError as e:
            print(json.dumps({{"error": str(e)}}))
        else:
            print(json.dumps({{"error": None}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr[-2000:]
    error = json.loads(out.stdout.strip().splitlines()[-1])["error"]
    assert error is not None, f"{call} was not refused"
    assert "Traceback" not in error
    return error


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("call", [
    "load_dataset('text', path=PATH)",
    "load_dataset('images', path=PATH)",
    "load_dataset('mnist', path=PATH)",
    "read_idx(PATH)",
])
def test_a_fifo_is_refused_at_once_for_every_loader(call, fifo, tmp_path):
    if "mnist" in call:  # mnist takes a folder of IDX files or an .npz
        npz = tmp_path / "mnist.npz"
        os.mkfifo(npz)
        message = refusal(call.replace("PATH", repr(str(npz))), tmp_path)
    else:
        message = refusal(call.replace("PATH", repr(str(fifo))), tmp_path)
    assert "a named pipe (FIFO)" in message and "regular files only" in message, message


@pytest.mark.parametrize("dataset", ["text", "images"])
def test_dev_zero_is_refused_as_a_device(dataset, tmp_path):
    message = refusal(f"load_dataset({dataset!r}, path='/dev/zero')", tmp_path)
    assert "'/dev/zero', which is a character device" in message, message


def test_a_fifo_inside_an_image_folder_is_named_not_read(tmp_path):
    from PIL import Image

    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(folder / f"{i}.png")
    os.mkfifo(folder / "trap.png")
    code = f"""
        import logging, json, genwidgets
        from genwidgets.registry import load_dataset
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        d = load_dataset("images", path={str(folder)!r})
        print(json.dumps(list(d.x.shape)))
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip()) == [3, 8, 8, 1]
    assert "trap.png" in out.stderr and "FIFO" in out.stderr, out.stderr


def test_a_file_over_the_cap_is_refused_naming_the_cap(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:  # sparse: no disk used, but its size is past the cap
        f.truncate(MAX_BYTES + 1)
    for load in (lambda: load_dataset("text", path=big),
                 lambda: load_dataset("images", path=big), lambda: read_idx(big)):
        with pytest.raises(DataError, match=r"at most 1 GiB\. Received: path=.*big\.txt' of "
                                            r"1\.1 GB"):
            load()
    small = tmp_path / "small.txt"
    small.write_text("x" * 11)
    with pytest.raises(DataError, match=r"at most 10 bytes\. Received: .* of 11 bytes"):
        read_bytes(small, max_bytes=10)


def gzip_bomb(path, header: bytes, gib: float) -> None:
    """A real gzip bomb: ``header`` then ``gib`` GiB of zeros, as gzip members of 64 MiB of
    zeros each (each packs to ~64 kB), so it is made in well under a second."""
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    with open(path, "wb") as f:
        f.write(gzip.compress(header))
        for _ in range(int(gib * 16) + 1):
            f.write(member)


def idx_header(*dims: int, code: int = 0x08) -> bytes:
    return b"\0\0" + bytes([code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def test_a_gzip_bomb_in_idx_form_is_refused_quickly(tmp_path):
    bomb = tmp_path / "t10k-images-idx3-ubyte.gz"
    gzip_bomb(bomb, idx_header(60000, 28, 28), gib=1.1)  # an MNIST header, 1.1 GiB of data
    assert bomb.stat().st_size < 5_000_000
    message = refusal(f"read_idx({str(bomb)!r})", tmp_path)
    assert "Expected 47040000 bytes of data after the header" in message, message
    assert "more data than its header says: a gzip bomb?" in message, message
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(
        idx_header(60000) + bytes(60000)))
    message = refusal(f"load_dataset('mnist', path={str(tmp_path)!r}, split='test')", tmp_path)
    assert "a gzip bomb?" in message, message


@pytest.mark.parametrize("dims, says", [
    ((2_000_000, 28, 28), r"claims dims \(2000000, 28, 28\) \(1\.6 GB of 1-byte values\), "
                          r"more than the 1 GiB genwidgets reads"),
    ((60000, 28, 28), r"claims dims \(60000, 28, 28\) \(47\.0 MB.*more than .* of gzip data "
                      r"can hold \(damaged\)"),
])
def test_an_idx_header_claiming_more_than_its_data_is_refused(dims, says, tmp_path):
    path = tmp_path / "claims.gz"
    path.write_bytes(gzip.compress(idx_header(*dims) + bytes(100)))
    with pytest.raises(DataError, match=says):
        read_idx(path)
    plain = tmp_path / "claims"  # unpacked: the data is simply too short
    plain.write_bytes(idx_header(*dims) + bytes(100))
    too_short = r"Received: 100 bytes\. The file is truncated"
    with pytest.raises(DataError, match=too_short if dims[0] == 60000 else says):
        read_idx(plain)


def test_a_damaged_gzip_is_refused(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(idx_header(10, 4, 4) + bytes(160))[:-12])
    with pytest.raises(DataError, match=r"complete gzip file.*cut short"):
        read_idx(path)


def test_an_npz_whose_array_claims_more_than_it_holds_is_refused(tmp_path):
    from numpy.lib import format as npy

    header = io.BytesIO()  # a .npy header for 9,999,999 images of 8x8, then 256 bytes
    npy.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                        "shape": (9_999_999, 8, 8)})
    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.npy", header.getvalue() + bytes(256))
    with pytest.raises(DataError, match=r"claims shape \(9999999, 8, 8\) of uint8 "
                                        r"\(640\.0 MB\), more than the .* it holds"):
        load_dataset("images", path=path)


def test_an_npz_of_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match=r"Python objects .* never unpickles"):
        load_dataset("images", path=path)


def test_a_zip_bomb_of_images_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in range(17):  # 17 x 64 MiB of zeros, declared: past the cap
            with z.open(f"pics/{i}.png", "w", force_zip64=True) as member:
                block = b"\0" * (1 << 20)
                for _ in range(64):
                    member.write(block)
    assert path.stat().st_size < 5_000_000
    with pytest.raises(DataError, match=r"unpacks to at most 1 GiB\. Received: .*bomb\.zip', "
                                        r"whose entries unpack to 1\.1 GB \(a zip bomb"):
        load_dataset("images", path=path)


def test_a_zlib_stream_is_not_mistaken_for_gzip(tmp_path):
    path = tmp_path / "z.idx"
    path.write_bytes(zlib.compress(idx_header(2, 2) + bytes(4)))
    with pytest.raises(DataError, match=r"Expected an IDX file \(a header of two zero bytes"):
        read_idx(path)
