"""Resumable demo stages: markers, fingerprints, upstream tokens, validity checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pubgraph.demo import SIZES, eval_rows, has_command
from pubgraph.demo_stages import StageRunner, file_fingerprint, fingerprint


class Counter:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def action(self, name: str, info: dict | None = None):  # type: ignore[no-untyped-def]
        def run() -> dict:
            self.calls[name] = self.calls.get(name, 0) + 1
            return info or {"n": self.calls[name]}

        return run


def _pipeline(run_dir: Path, counter: Counter, *, seed: int = 1, valid: bool = True,
              force: tuple[str, ...] = ()) -> StageRunner:
    r = StageRunner(run_dir, force=force, log=lambda _m: None)
    r.run("ingest", counter.action("ingest"))
    r.run("slice", counter.action("slice"), params={"seed": seed}, after=["ingest"])
    r.run("load", counter.action("load"), after=["slice"], still_valid=lambda _m: valid)
    r.run("train", counter.action("train"), after=["load"])
    return r


def test_second_run_skips_everything(tmp_path: Path) -> None:
    c = Counter()
    first = _pipeline(tmp_path, c)
    assert c.calls == {"ingest": 1, "slice": 1, "load": 1, "train": 1}
    assert not any(m.skipped for m in first.done.values())
    second = _pipeline(tmp_path, c)
    assert c.calls == {"ingest": 1, "slice": 1, "load": 1, "train": 1}
    assert all(m.skipped for m in second.done.values())
    assert second.done["load"].info == {"n": 1}  # the info of the run that did the work
    marker = json.loads((tmp_path / "stages" / "train.json").read_text())
    assert set(marker) == {"name", "fingerprint", "token", "seconds", "finished", "info"}


def test_changed_parameter_reruns_that_stage_and_everything_after(tmp_path: Path) -> None:
    c = Counter()
    _pipeline(tmp_path, c, seed=1)
    _pipeline(tmp_path, c, seed=2)
    assert c.calls == {"ingest": 1, "slice": 2, "load": 2, "train": 2}
    _pipeline(tmp_path, c, seed=2)  # and then it is done again
    assert c.calls == {"ingest": 1, "slice": 2, "load": 2, "train": 2}


def test_invalid_output_reruns_and_downstream_follows(tmp_path: Path) -> None:
    c = Counter()
    _pipeline(tmp_path, c)
    _pipeline(tmp_path, c, valid=False)  # e.g. the graph was emptied since
    # load ran again; train depends on load's token, so it ran again too
    assert c.calls == {"ingest": 1, "slice": 1, "load": 2, "train": 2}


def test_failed_stage_leaves_no_marker_and_resumes_there(tmp_path: Path) -> None:
    c = Counter()
    r = StageRunner(tmp_path, log=lambda _m: None)
    r.run("ingest", c.action("ingest"))

    def boom() -> dict:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        r.run("slice", boom, after=["ingest"])
    assert not (tmp_path / "stages" / "slice.json").exists()
    _pipeline(tmp_path, c)
    assert c.calls == {"ingest": 1, "slice": 1, "load": 1, "train": 1}


def test_force_and_invalidate(tmp_path: Path) -> None:
    c = Counter()
    _pipeline(tmp_path, c)
    _pipeline(tmp_path, c, force=("train",))
    assert c.calls["train"] == 2 and c.calls["load"] == 1
    StageRunner(tmp_path).invalidate("load")
    _pipeline(tmp_path, c)
    assert c.calls["load"] == 2 and c.calls["train"] == 3


def test_unreadable_marker_means_not_done(tmp_path: Path) -> None:
    c = Counter()
    _pipeline(tmp_path, c)
    (tmp_path / "stages" / "ingest.json").write_text("{broken")
    _pipeline(tmp_path, c)
    assert c.calls["ingest"] == 2


def test_fingerprints(tmp_path: Path) -> None:
    assert fingerprint("a", {"x": 1, "y": 2}, []) == fingerprint("a", {"y": 2, "x": 1}, [])
    assert fingerprint("a", {"x": 1}, []) != fingerprint("b", {"x": 1}, [])
    f = tmp_path / "f.xml"
    f.write_text("abc")
    before = file_fingerprint([f])
    f.write_text("abcd")
    assert file_fingerprint([f]) != before


def test_sizes_and_commands() -> None:
    assert SIZES["tiny"].articles is not None and SIZES["tiny"].articles <= 500
    assert SIZES["full"].articles is None
    assert SIZES["tiny"].train_steps < SIZES["small"].train_steps
    assert has_command("demo") and has_command("embed") and has_command("pairs")
    assert not has_command("no-such-command")


def test_eval_rows_from_a_comparison(tmp_path: Path) -> None:
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps({
        "rows": [{"task": "pairs", "metric": m, "base": 0.8, "model": 0.9, "delta": 0.1}
                 for m in ("auc", "ap", "f1", "accuracy")],
        "skipped": {"biosses": "no file"},
    }))
    rows = eval_rows(path)
    auc = next(r for r in rows if r.get("metric") == "auc")
    assert auc["model"] == 0.9 and auc["base"] == 0.8
    assert abs(auc["delta"] - 0.1) < 1e-9
    assert [r["metric"] for r in rows if r["task"] == "pairs"] == ["auc", "ap", "f1"]
    assert {"task": "biosses", "metric": "skipped", "reason": "no file"} in rows
    assert eval_rows(tmp_path / "missing.json") == []
