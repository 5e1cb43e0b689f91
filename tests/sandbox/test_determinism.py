from __future__ import annotations

import hashlib
from pathlib import Path

from reconciler.sandbox import init_sandbox


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_give_a_byte_identical_sandbox(tmp_path: Path) -> None:
    kwargs = {
        "seasons": (2023, 2024, 2025),
        "scale": 0.003,
        "seed": 9,
        "drift": True,
        "specs_source": tmp_path / "none",
    }
    a = init_sandbox(tmp_path / "a", workers=1, **kwargs)
    b = init_sandbox(tmp_path / "b", workers=2, **kwargs)
    assert a == b
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert tree_a == tree_b
    assert any(k.startswith("lake/silver/fct_plays/") for k in tree_a)
    assert "manifest.json" in tree_a and "config.yaml" in tree_a


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    a = init_sandbox(tmp_path / "a", seasons=(2025,), scale=0.002, seed=1, specs_source=tmp_path / "none")
    b = init_sandbox(tmp_path / "b", seasons=(2025,), scale=0.002, seed=2, specs_source=tmp_path / "none")
    assert a.targets != b.targets
