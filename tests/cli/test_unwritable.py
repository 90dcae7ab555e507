"""Issue 22 row 3: every subcommand against a read-only output folder and against a full file system.

Each case runs the real command (``python -m evosim``) with its output
pointed into a folder that cannot be written, and must answer with one line
naming the path and the reason, exit code 1, no traceback, and leave nothing
behind: the folder's content (recursively) is the same before and after.

The places:

* **read-only**: a tmpfs mounted read-only (the run that ``plot`` writes into
  is copied in before it is remounted read-only);
* **full**: a 16 MiB tmpfs filled to the last byte with a filler file;
* ``stdout``: the commands that print (``validate``, ``init``, ``schema``)
  with their standard output on ``/dev/full``.

Mounting needs privileges (root, or CAP_SYS_ADMIN in a container). Where
``mount`` is refused the places fall back to paths whose writes fail by
construction: a folder symlinked to ``/sys`` (writes refused even to root)
for read-only, and for full a command whose files cannot grow (``RLIMIT_FSIZE``
0, SIGXFSZ ignored: every write of a byte fails with "File too large", while,
as on a full disk, folders and empty files can still be made). Each failure
message says which place it was (``-fallback``); nothing is skipped.
``EVOSIM_TEST_NO_MOUNT=1`` forces the fallback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import TINY_FILE, assert_one_line

SPEC = """\
name: tinyexp
world: {world}
seed: 11
ticks: 10
replicates: 1
arms:
  - name: control
"""
SWEEP = (
    SPEC
    + """\
sweep:
  sampler: grid
  replicates: 1
  parameters:
    traits.brain.upkeep: {values: [0.2, 0.8]}
"""
)
SWEEP = SWEEP.replace("replicates: 1\narms", "arms")


def _mount(where: Path, options: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.environ.get("EVOSIM_TEST_NO_MOUNT"):  # to exercise the fallback where mount works
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                       capture_output=True)  # fmt: skip
    return r.returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _tree(folder: Path) -> dict[str, int]:
    """Every path under ``folder`` (symlinks not followed) and its size."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in dirnames + filenames:
            p = Path(dirpath, n)
            out[str(p.relative_to(folder))] = p.lstat().st_size if not p.is_dir() else -1
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A finished tiny run, an experiment folder of its copies, and experiment / sweep specs."""
    from evosim.config.load import load_world
    from evosim.io.runner import run

    base = tmp_path_factory.mktemp("inputs")
    run(load_world(TINY_FILE), base / "run", ticks=20)
    for arm in ("control", "more"):
        shutil.copytree(base / "run", base / "exp" / arm / "rep-0",
                        ignore=shutil.ignore_patterns("checkpoints"))  # fmt: skip
    (base / "spec.yaml").write_text(SPEC.replace("{world}", str(TINY_FILE)), encoding="utf-8")
    (base / "sweep.yaml").write_text(SWEEP.replace("{world}", str(TINY_FILE)), encoding="utf-8")
    return base


class Place:
    """A folder whose writes fail, and how to point a command's outputs into it."""

    def __init__(self, kind: str, root: Path, fallback: bool, run: Path) -> None:
        self.kind, self.root, self.fallback, self.run = kind, root, fallback, run

    def path(self, name: str) -> Path:
        return self.root / name


@pytest.fixture(scope="module", params=["read-only", "full"])
def place(request, inputs, tmp_path_factory) -> Iterator[Place]:
    kind = request.param
    where = tmp_path_factory.mktemp(kind)
    mnt = where / "mnt"
    size = "size=16m"
    if _mount(mnt, size):
        try:
            shutil.copytree(
                inputs / "run", mnt / "run", ignore=shutil.ignore_patterns("checkpoints")
            )
            if kind == "read-only":
                subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
            else:
                fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT)
                try:
                    for chunk in (65536, 1):  # big blocks, then the last bytes
                        try:
                            while os.write(fd, b"\0" * chunk):
                                pass
                        except OSError:
                            pass
                finally:
                    os.close(fd)
            yield Place(kind, mnt, False, mnt / "run")
        finally:
            _umount(mnt)
        return
    # no mount here: paths whose writes fail by construction
    root = where / "fallback"
    run = shutil.copytree(
        inputs / "run", where / "run", ignore=shutil.ignore_patterns("checkpoints")
    )
    if kind == "read-only":
        root.symlink_to("/sys")
        (run / "plots").symlink_to("/sys")
    else:
        root.mkdir()
    yield Place(kind, root, True, run)


def _no_file_growth() -> None:
    """In the child of the full-disk fallback: no file may grow (writes fail with EFBIG)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write then fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _cases(inputs: Path, p: Place) -> dict[str, list[object]]:
    world = TINY_FILE
    return {
        "run": ["run", world, "--ticks", 3, "--out", p.path("newrun"), "-q"],
        "init -o": ["init", "-o", p.path("w.yaml")],
        "schema -o": ["schema", "-o", p.path("s.json")],
        "plot": ["plot", p.run],
        "plot --newick": ["plot", inputs / "run", "--newick", p.path("tree.nwk")],
        "report --out": ["report", inputs / "exp", "--out", p.path("rep"), "--bootstrap", 100],
        "view --screenshot": [
            "view",
            world,
            "--ticks",
            1,
            "--size",
            "320x240",
            "--screenshot",
            p.path("shot.png"),
        ],  # fmt: skip
        "view --frames": [
            "view",
            world,
            "--ticks",
            2,
            "--size",
            "320x240",
            "--frames",
            p.path("frames"),
        ],  # fmt: skip
        "experiment --out": [
            "experiment",
            inputs / "spec.yaml",
            "--out",
            p.path("exp"),
            "-q",
            "--workers",
            1,
        ],  # fmt: skip
        "sweep --out": [
            "sweep",
            inputs / "sweep.yaml",
            "--out",
            p.path("sweep"),
            "-q",
            "--workers",
            1,
        ],  # fmt: skip
    }


CASES = ["run", "init -o", "schema -o", "plot", "plot --newick", "report --out",
         "view --screenshot", "view --frames", "experiment --out", "sweep --out"]  # fmt: skip


def _evosim(
    args: list[object], cwd: Path, stdout=subprocess.PIPE, full: bool = False
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "evosim", *map(str, args)],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=600,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
        preexec_fn=_no_file_growth if full else None,
    )


@pytest.mark.parametrize("case", CASES)
def test_every_command_refuses_an_unwritable_place_in_one_line(case, place, inputs, tmp_path):
    args = _cases(inputs, place)[case]
    watched = place.root if not place.fallback else place.run
    before = _tree(watched)
    r = _evosim(args, tmp_path, full=place.fallback and place.kind == "full")
    msg = r.stderr.strip()
    assert r.returncode == 1, (
        f"{case} ({place.kind}{'-fallback' if place.fallback else ''}): {r.stderr}"
    )
    errors = [x for x in msg.splitlines() if x.startswith("evosim: error: ")]
    assert len(errors) == 1 and msg.endswith(errors[0]), msg  # lines before it: the command's plan
    assert_one_line(errors[0], "cannot write")
    assert "Traceback" not in r.stderr
    reason = ("Read-only file system", "Permission denied", "Operation not permitted", "Not a directory",
              "No such file or directory") if place.kind == "read-only" else (
              "No space left on device", "File too large")  # fmt: skip
    assert any(x in msg for x in reason), msg
    assert _tree(watched) == before, f"{case} left something behind"
    assert list(tmp_path.iterdir()) == []  # nor in the working folder (no runs/ default)


@pytest.mark.parametrize(
    "args", [["validate"], ["init"], ["schema"], ["plot", "RUN", "--newick", "-"]]
)
def test_printing_to_a_full_standard_output_is_one_line(args, inputs, tmp_path):
    args = [inputs / "run" if a == "RUN" else a for a in args]
    with open("/dev/full", "w") as full:
        r = _evosim(args, tmp_path, stdout=full)
    assert r.returncode == 1, r.stderr
    assert_one_line(r.stderr.strip(), "cannot write standard output", "No space left on device")
