"""scripts/mutation.py's bookkeeping: which files are core, how mutmut's verdicts become kill rates, and
when a run fails. (Running mutmut itself is the script's job, not a unit test's.)"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def mutation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_script"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_core_is_what_pyproject_names(mutation: ModuleType) -> None:
    globs = mutation.core_globs()
    assert mutation.is_core("workflow/domain/audit.py", globs)
    assert mutation.is_core("serving/api/limits.py", globs)
    assert not mutation.is_core("serving/api/routes/photos.py", globs)
    assert not mutation.is_core("workflow/domain/README.md", globs)
    files = mutation.core_files(globs)
    assert "workflow/domain/lifecycle.py" in files and "workflow/domain/__init__.py" not in files


def test_a_module_path_becomes_mutmuts_mutant_name_pattern(mutation: ModuleType) -> None:
    assert mutation.mutant_glob("workflow/domain/audit.py") == "workflow.domain.audit.*"


def test_verdicts_fold_into_killed_survived_untested_and_unchecked(
    mutation: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = tmp_path / "mutants" / "workflow" / "domain" / "audit.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"m.x_a__mutmut_1": 1, "m.x_a__mutmut_2": 0, "m.x_a__mutmut_10": 36, "m.x_b__mutmut_1": 33,
             "m.x_b__mutmut_2": None, "m.x_b__mutmut_3": 37, "m.x_b__mutmut_4": -11}  # fmt: skip
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    score = mutation.score("workflow/domain/audit.py")
    # killed: exit 1, timeout 36, type check 37; survived: 0; no tests: 33; unchecked: None; other: -11
    assert (score.killed, score.survived, score.no_tests, score.unchecked, score.other) == (
        3, ("m.x_a__mutmut_2",), ("m.x_b__mutmut_1",), 1, 1,
    )  # fmt: skip
    assert score.checked == 6 and score.kill_rate == 0.5


def test_zero_survivor_modules_and_the_kill_floor_fail_the_run(mutation: ModuleType) -> None:
    score = mutation.ModuleScore
    perfect_elsewhere = score("vision/nms.py", 9, ("s",), (), 0, 0)  # 90 %: on the floor, passes
    under = score("vision/ppe.py", 8, ("s", "t"), (), 5, 0)  # 80 %
    audit = score("workflow/domain/audit.py", 99, ("s",), (), 0, 0)
    assert mutation.failures([perfect_elsewhere], 0.9) == []
    assert mutation.failures([under, audit], 0.9) == [
        "vision/ppe.py: 80.0 % killed, under 90 %",
        "workflow/domain/audit.py: 1 surviving mutant(s); none are accepted",
    ]
    assert mutation.failures([score("vision/nms.py", 0, (), (), 12, 0)], 0.9) == []  # nothing checked yet


def test_a_save_cut_off_mid_write_keeps_the_last_complete_verdicts(
    mutation: ModuleType, tmp_path: Path
) -> None:
    from mutmut.mutation.data import SourceFileMutationData

    mutation.save_meta_atomically()
    mutation.save_meta_atomically()  # idempotent: not wrapped twice
    data = SourceFileMutationData(path="vision/nms.py")
    data.meta_path = tmp_path / "nms.py.meta"
    data.exit_code_by_key = {"vision.nms.x_f__mutmut_1": 1}
    data.save()
    assert json.loads(data.meta_path.read_text())["exit_code_by_key"] == {"vision.nms.x_f__mutmut_1": 1}
    data.exit_code_by_key = {"vision.nms.x_f__mutmut_1": 0, "vision.nms.x_f__mutmut_2": object()}
    with pytest.raises(TypeError):  # json.dump fails halfway through, as a signal would cut it
        data.save()
    assert data.meta_path == tmp_path / "nms.py.meta"
    assert json.loads(data.meta_path.read_text())["exit_code_by_key"] == {"vision.nms.x_f__mutmut_1": 1}
