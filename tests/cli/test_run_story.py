"""`evosim run` ends with the story of the run (docs/outputs.md): in text, silenced by -q, as JSON with --json."""

from __future__ import annotations

import json

from evosim.analysis.story import HARD_PATHS
from tests.helpers import TINY, set_args

#: the tiny world with a low intelligence threshold, so the story has an intelligent lineage to tell
SETS = set_args({**TINY, "detectors.brain_threshold": 0.45, "detectors.intelligence_window": 5})


def test_run_prints_the_story_then_the_folder_then_what_next(cli, tmp_path):
    out = tmp_path / "r"
    r = cli("run", "--out", out, "--ticks", 30, *SETS)
    assert r.exit_code == 0, r.output
    text = r.stdout
    for words in ("completed after 30 ticks", "The story of tiny seed 0", "- grazer (", "- swimmer (",
                  "intelligent at tick", "peak mean brain", "Compute:", f"run folder: {out}", "Next:",
                  f"evosim plot {out}", f"evosim view {out / 'config.yaml'}",
                  f"evosim experiment {HARD_PATHS} --workers 2"):  # fmt: skip
        assert words in text, f"{words!r} missing from:\n{text}"
    assert text.index("The story") < text.index("run folder:") < text.index("Next:")
    assert "species became intelligent" not in text  # the story tells it per lineage instead


def test_quiet_has_no_story(cli, tmp_path):
    r = cli("run", "--out", tmp_path / "q", "--ticks", 30, "-q", *SETS)
    assert r.exit_code == 0, r.output
    assert "The story" not in r.output and "Next:" not in r.output and r.stderr == ""
    assert "species became intelligent" in r.stdout and f"run folder: {tmp_path / 'q'}" in r.stdout


def test_json_is_all_of_stdout(cli, tmp_path):
    out = tmp_path / "j"
    r = cli("run", "--out", out, "--ticks", 30, "--json", *SETS)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)  # nothing else on stdout
    assert doc["run"] == str(out) and doc["summary"]["ticks_run"] == 30
    assert [c["clade"] for c in doc["clades"]] == ["grazer", "swimmer"]
    assert doc["summary"] == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert {h["command"].split()[1] for h in doc["next"]} == {"plot", "view", "experiment"}
    # resuming (here: extending) a run with --json: its notes go to stderr, stdout stays JSON
    r = cli("run", "--resume", out, "--ticks", 40, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["ticks_run"] == 40 and "resumed from tick 30" in r.stderr


def test_quiet_run_does_not_load_the_story_tools(tmp_path):
    """-q prints result lines only: pandas and the story are not loaded (~0.7 s less at the end)."""
    import subprocess
    import sys

    code = (
        "import sys; from evosim.cli.main import main\n"
        "try:\n"
        f"    main(['run', '--out', {str(tmp_path / 'q')!r}, '--ticks', '5', '-q', *{SETS!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        "print(sorted(m for m in ('pandas', 'evosim.analysis.story') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr
    assert "run folder:" in r.stdout
