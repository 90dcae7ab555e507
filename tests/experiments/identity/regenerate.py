"""The byte-identity fixtures of the batch pipeline: a small experiment, a branched one and a sweep.

``tests/experiments/test_identity.py`` runs them through the commands (``evosim experiment``,
``evosim sweep``, ``evosim report``) and compares with the files here: the SHA-256 of every file of
every run folder (``*.sha256``; ``summary.json`` without its ``timing`` block) and the report tables
(``results.csv``, ``sensitivity.csv``). They were written by the code before issue 23 moved
experiments and sweeps onto one pipeline, so they hold it to the old bytes. Rewrite them only after
a change that alters the model or a report *on purpose*, look at the diff and commit it::

    python tests/experiments/identity/regenerate.py
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]  # the checkout this file belongs to: use its evosim

WORLD = """\
name: tiny
world: {width: 32, height: 32}
species:
  - {name: grazer, count: 150, genes: {habitat: {mean: 0.9}, brain: {mean: 0.5, sd: 0.02}}}
  - {name: swimmer, count: 150, genes: {habitat: {mean: 0.1}, brain: {mean: 0.3, sd: 0.02}}}
detectors: {intelligence_window: 3, min_population: 5}
output: {sample_every: 5}
"""
ARMS = """\
arms:
  - name: control
  - name: hands
    interventions:
      - name: grant
        when: {tick: 25}
        target: {species: [swimmer]}
        effect: {kind: manipulators, level: 0.8}
"""
#: ticks of the experiment; its extension runs to SHORT first, then to TICKS
TICKS, SHORT = 60, 30
HEAD = "world: tiny.yaml\noverrides: {detectors.brain_threshold: 0.4}\ncheckpoint_every: 15\n"
EXPERIMENT = f"name: idexp\nseed: 11\nticks: TICKS\nreplicates: 2\n{HEAD}{ARMS}"
BRANCHED = f"name: idbranch\nseed: 12\nticks: {TICKS}\nreplicates: 1\nbranch_tick: 20\n{HEAD}{ARMS}"
SWEEP = """\
name: idsweep
world: tiny.yaml
seed: 13
ticks: 40
arms: [{name: control}]
sweep:
  sampler: grid
  replicates: 2
  parameters:
    detectors.brain_threshold: {values: [0.25, 0.45]}
"""
REPORT = ["--no-plots", "--bootstrap", "200", "--seed", "3"]


def write_spec(folder: Path, name: str, body: str) -> Path:
    """The tiny world and the spec ``body`` as ``folder/name``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(WORLD, encoding="utf-8")
    (folder / name).write_text(body, encoding="utf-8")
    return folder / name


def invoke(command, *args) -> None:
    """Run a click command; fail with its output if it does not exit 0."""
    from click.testing import CliRunner

    r = CliRunner().invoke(command, [str(a) for a in args])
    if r.exit_code != 0:
        raise AssertionError(
            f"{command.name} {args} exited {r.exit_code}:\n{r.output}"
        ) from r.exception


def run_hashes(out: Path) -> str:
    """``<sha256>  <path>`` of every file of the run folders under ``out`` (sorted; no manifest, lock or report)."""
    lines = []
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or "/" not in rel or rel.startswith("report/"):
            continue
        data = p.read_bytes()
        if p.name == "summary.json":
            s = json.loads(data)
            s.pop("timing", None)
            data = json.dumps(s, sort_keys=True).encode()
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {rel}\n")
    return "".join(lines)


def per_arm(path: Path) -> str:
    """results.csv's per-arm rows (empty ``tick``), then a line with the SHA-256 of the whole file."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [ln for ln in lines[1:] if ln.rstrip("\n").endswith(",")]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return "".join([lines[0], *rows, f"# sha256 of the whole file: {digest}\n"])


def experiment(tmp: Path, extend: bool = False) -> dict[str, str]:
    """The experiment (or its extension from SHORT to TICKS ticks): run hashes and report results.csv.

    An extension's folders differ from the experiment's only in the checkpoints written before
    SHORT, whose headers record the shorter run's config.
    """
    from evosim.cli.experiment import experiment as cmd
    from evosim.cli.experiment import report

    spec = write_spec(tmp, "exp.yaml", EXPERIMENT.replace("TICKS", str(TICKS)))
    out = tmp / "exp"
    if extend:
        invoke(cmd, spec, "--out", out, "--workers", 1, "-q", "--ticks", SHORT)
    invoke(cmd, spec, "--out", out, "--workers", 1, "-q")
    invoke(report, out, *REPORT)
    name = "extension" if extend else "experiment"
    return {
        f"{name}.sha256": run_hashes(out),
        f"{name}_results.csv": per_arm(out / "report" / "results.csv"),
    }


def branched(tmp: Path) -> dict[str, str]:
    """The branched experiment (a shared base to tick 20, then the arms): run hashes."""
    from evosim.cli.experiment import experiment as cmd

    spec = write_spec(tmp, "branch.yaml", BRANCHED)
    invoke(cmd, spec, "--out", tmp / "branch", "--workers", 1, "-q")
    return {"branched.sha256": run_hashes(tmp / "branch")}


def sweep(tmp: Path) -> dict[str, str]:
    """The 2-point sweep: run hashes and report sensitivity.csv and samples.csv."""
    from evosim.cli.experiment import report
    from evosim.cli.experiment import sweep as cmd

    spec = write_spec(tmp, "sweep.yaml", SWEEP)
    out = tmp / "sweep"
    invoke(cmd, spec, "--out", out, "--workers", 1, "-q")
    invoke(report, out, *REPORT)
    return {
        "sweep.sha256": run_hashes(out),
        "sweep_sensitivity.csv": (out / "report" / "sensitivity.csv").read_text(encoding="utf-8"),
        "sweep_samples.csv": (out / "report" / "samples.csv").read_text(encoding="utf-8"),
    }


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        files = {**experiment(t / "e"), **experiment(t / "x", extend=True)}
        files.pop("extension_results.csv")  # equal to experiment_results.csv (the test checks)
        files.update({**branched(t / "b"), **sweep(t / "s")})
    for name, text in files.items():
        path = HERE / name
        old = path.read_text(encoding="utf-8") if path.exists() else None
        path.write_text(text, encoding="utf-8")
        state = "unchanged" if old == text else ("written" if old is None else "updated")
        print(f"{path}: {state} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
