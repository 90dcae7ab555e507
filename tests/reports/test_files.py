"""A report is written beside its folder and moved in whole at the end (:func:`staged`)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from evosim.reports.files import staged, write_report_files


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()
    }


def test_a_new_report_folder_appears_whole_or_not_at_all(tmp_path):
    out = tmp_path / "deep" / "report"
    with pytest.raises(KeyboardInterrupt):
        with staged(out) as tmp:
            assert tmp.parent == out.parent and tmp.name.startswith(".report.")
            write_report_files(tmp, {}, "# half", None)
            assert not out.exists()  # nothing in place while it is written
            raise KeyboardInterrupt
    assert not out.exists() and list(out.parent.iterdir()) == []  # no staging folder left
    with staged(out) as tmp:
        write_report_files(tmp, {}, "# whole", None)
    assert _files(out) == {"summary.md": "# whole"}
    assert [p.name for p in out.parent.iterdir()] == ["report"]


def test_an_existing_folder_keeps_its_other_files_and_is_untouched_when_interrupted(tmp_path):
    out = tmp_path / "replay"
    (out / "control" / "rep-0").mkdir(parents=True)
    (out / "control" / "rep-0" / "summary.json").write_text("{}")
    (out / "summary.md").write_text("# old")
    (out / "causal.csv").write_text("old")
    before = _files(out)
    with pytest.raises(KeyboardInterrupt):
        with staged(out) as tmp:
            (tmp / "summary.md").write_text("# new")
            raise KeyboardInterrupt
    assert _files(out) == before
    with staged(out) as tmp:
        (tmp / "summary.md").write_text("# new")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "x.csv").write_text("x")
    assert _files(out) == {**before, "summary.md": "# new", "sub/x.csv": "x"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["replay"]


def test_the_move_runs_inside_hold(tmp_path):
    seen = []

    @contextmanager
    def hold():
        seen.append(("held", (tmp_path / "r").exists()))
        yield
        seen.append(("released", (tmp_path / "r" / "a.csv").exists()))

    with staged(tmp_path / "r", hold) as tmp:
        (tmp / "a.csv").write_text("a")
    assert seen == [("held", False), ("released", True)]
