"""The installed layout: one top-level package, ``pubgraph``; nothing generic in site-packages.

Builds the real wheel (no network: ``--no-deps --no-build-isolation``), installs it into a
target folder and runs it from an empty folder that holds a user's own ``train.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENERIC = ("graph", "ingest", "pairing", "train", "analysis", "dashboard", "embeddings")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    [whl] = out.glob("pubgraph-*.whl")
    return whl


def test_wheel_has_one_top_level_package_with_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"pubgraph"}
    for sub in GENERIC:
        assert f"pubgraph/{sub}/__init__.py" in names
    assert "pubgraph/graph/server/pom.xml" in names
    assert "pubgraph/configs/train.yaml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: MIT" in text


def test_a_users_train_py_does_not_shadow_pubgraph(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    work = tmp_path / "empty"
    work.mkdir()
    (work / "train.py").write_text("raise SystemExit(1)\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    ok = subprocess.run([sys.executable, "-m", "pubgraph", "--help"], cwd=work, env=env,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Usage" in ok.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import pubgraph.train; print(pubgraph.train.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    assert where.startswith(str(target)), where
    (work / "train.py").unlink()
    for name in GENERIC:
        gone = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=60)
        assert gone.returncode != 0 and "ModuleNotFoundError" in gone.stderr, name
