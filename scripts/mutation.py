"""Mutation testing of the core with mutmut: run, then report what survived.

    scripts/mutation                      every core module ([tool.mutmut] only_mutate), no time limit
    scripts/mutation --changed HEAD~1     only the core modules the change touches (CI)
    scripts/mutation --budget-s 600 workflow/domain/audit.py
    scripts/mutation --report-only        summarise the last run (mutants/) without running

The report (stdout, and ``--report FILE`` as Markdown) gives the kill rate per module and every surviving
mutant's diff. Exit 1 when a module is under ``--min-kill`` or a module of ZERO_SURVIVORS keeps a
survivor; mutants left unchecked by the budget are counted apart and never fail the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"  # for `mutmut show`
# The promises a reviewer must be able to rely on: the tamper-evident log, who may walk which edge,
# and the rules that keep evidence immutable. Not one surviving mutant is accepted there.
ZERO_SURVIVORS = ("workflow/domain/audit.py", "workflow/domain/lifecycle.py", "workflow/domain/evidence.py")
# mutmut's own statuses (mutmut.stats.status_by_exit_code) that count as a kill: a timeout or a type error
# is the mutant caught too.
KILLED = frozenset({"killed", "timeout", "caught by type check"})


@dataclass(frozen=True, slots=True)
class ModuleScore:
    path: str
    killed: int
    survived: tuple[str, ...]
    no_tests: tuple[str, ...]
    unchecked: int
    other: int

    @property
    def checked(self) -> int:
        return self.killed + len(self.survived) + len(self.no_tests) + self.other

    @property
    def kill_rate(self) -> float:
        return self.killed / self.checked if self.checked else 1.0


def core_globs() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return list(config["only_mutate"])


def is_core(path: str, globs: list[str]) -> bool:
    return path.endswith(".py") and any(fnmatch.fnmatch(path, g) for g in globs)


def core_files(globs: list[str]) -> list[str]:
    found = {str(p.relative_to(ROOT)) for g in globs for p in ROOT.glob(g)}
    return sorted(p for p in found if is_core(p, globs) and not p.endswith("__init__.py"))


def changed_core_files(base: str, globs: list[str]) -> list[str]:
    out = subprocess.run(
        ["git", "diff", "--name-only", base, "--"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return sorted(p for p in out.split() if is_core(p, globs) and (ROOT / p).exists())


def mutant_glob(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".") + ".*"


def run_mutmut(files: list[str], tests: list[str], budget_s: float | None, children: int) -> None:
    """Run mutmut on ``files``; when the budget runs out, what it did is kept in mutants/."""
    scope = ROOT / "mutants" / ".scope"
    if scope.exists() and scope.read_text().split() != files + tests:
        # mutants/ of another scope holds plain copies of files this scope does not mutate; mutmut would
        # take them for mutated ones. Start clean instead (a whole-core run takes its time again).
        shutil.rmtree(ROOT / "mutants")
    scope.parent.mkdir(exist_ok=True)
    scope.write_text("\n".join(files + tests))
    command = [sys.executable, __file__, "--mutmut-run", str(children), ",".join(tests), *files]
    print("$ mutmut run", " ".join(map(mutant_glob, files)), flush=True)
    with subprocess.Popen(command, cwd=ROOT, start_new_session=True) as proc:
        try:
            proc.wait(timeout=budget_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)  # mutmut saves each verdict as it goes
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            print(f"budget of {budget_s:.0f} s spent: the rest is reported as unchecked", flush=True)
            return
    if proc.returncode != 0:
        raise SystemExit(f"mutmut run failed with exit code {proc.returncode}")


def mutmut_run(children: int, tests: list[str], files: list[str]) -> None:
    """mutmut's own ``run``, with only ``files`` mutated (generating the mutants of the whole core takes
    minutes, which a change to one module should not pay) and, when given, only ``tests`` run."""
    import mutmut.configuration as mutmut_config
    from mutmut.__main__ import cli

    save_meta_atomically()
    config = mutmut_config.config()
    mutmut_config._config = dataclasses.replace(
        config,
        only_mutate=files,
        pytest_add_cli_args_test_selection=tests or config.pytest_add_cli_args_test_selection,
    )
    cli.main(args=["run", "--max-children", str(children), *map(mutant_glob, files)], prog_name="mutmut")


def save_meta_atomically() -> None:
    """Make mutmut write each ``.meta`` (every verdict of a module) to a temporary file and rename it into
    place: the budget's SIGINT can land mid-write, and a half-written file loses the whole module's
    results. A rename is atomic, so a cut-off run keeps the last complete save."""
    from mutmut.mutation.data import SourceFileMutationData

    if getattr(SourceFileMutationData.save, "atomic", False):
        return
    plain_save = SourceFileMutationData.save

    def save(self: SourceFileMutationData) -> None:
        final = Path(self.meta_path)
        self.meta_path = final.with_name(final.name + ".tmp")
        try:
            plain_save(self)
            Path(self.meta_path).replace(final)
        finally:
            self.meta_path = final

    save.atomic = True  # type: ignore[attr-defined]
    SourceFileMutationData.save = save  # type: ignore[method-assign]


def score(path: str) -> ModuleScore:
    meta = ROOT / "mutants" / (path + ".meta")
    try:
        codes: dict[str, int | None] = (
            json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        )
    except json.JSONDecodeError:  # a run killed while mutmut wrote it: nothing from it can be trusted
        print(
            f"{meta} is unreadable (a run was cut off while writing it); counted as not run", file=sys.stderr
        )
        codes = {}
    tally: Counter[str] = Counter()
    survived, no_tests = [], []
    for name, code in sorted(codes.items(), key=lambda kv: _mutant_order(kv[0])):
        status = status_by_exit_code[code]
        if status == "not checked":
            tally["unchecked"] += 1
        elif status in KILLED:
            tally["killed"] += 1
        elif status == "survived":
            survived.append(name)
        elif status == "no tests":
            no_tests.append(name)
        else:
            tally["other"] += 1
    return ModuleScore(
        path, tally["killed"], tuple(survived), tuple(no_tests), tally["unchecked"], tally["other"]
    )


def _mutant_order(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def diff_of(mutant: str) -> str:
    shown = subprocess.run([str(MUTMUT), "show", mutant], cwd=ROOT, capture_output=True, text=True).stdout
    return "\n".join(line for line in shown.splitlines() if line[:2] in ("- ", "+ "))


def render(scores: list[ModuleScore], with_diffs: bool) -> str:
    killed = sum(s.killed for s in scores)
    checked = sum(s.checked for s in scores)
    unchecked = sum(s.unchecked for s in scores)
    lines = [
        f"mutants killed: {killed} / {checked} checked ({100 * killed / checked if checked else 100:.1f} %)"
        + (f", {unchecked} unchecked" if unchecked else ""),
        "",
        "| module | killed | survived | no tests | unchecked | kill rate |",
        "|---|---|---|---|---|---|",
    ]
    for s in scores:
        lines.append(
            f"| `{s.path}` | {s.killed} | {len(s.survived)} | {len(s.no_tests)} | {s.unchecked} "
            f"| {100 * s.kill_rate:.1f} % |"
        )
    if with_diffs:
        for s in scores:
            for mutant in (*s.survived, *s.no_tests):
                kind = "survived" if mutant in s.survived else "no test covers it"
                lines += ["", f"`{mutant}` ({kind})", "```diff", diff_of(mutant), "```"]
    return "\n".join(lines)


def failures(scores: list[ModuleScore], min_kill: float) -> list[str]:
    out = []
    for s in scores:
        if s.path in ZERO_SURVIVORS and (s.survived or s.no_tests):
            out.append(
                f"{s.path}: {len(s.survived) + len(s.no_tests)} surviving mutant(s); none are accepted"
            )
        elif s.checked and s.kill_rate < min_kill:
            out.append(f"{s.path}: {100 * s.kill_rate:.1f} % killed, under {100 * min_kill:.0f} %")
    return out


def main() -> int:
    if sys.argv[1:2] == ["--mutmut-run"]:
        mutmut_run(int(sys.argv[2]), [t for t in sys.argv[3].split(",") if t], sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", help="core modules to mutate (default: all of them)")
    parser.add_argument("--changed", metavar="BASE", help="only the core modules changed since git BASE")
    parser.add_argument("--budget-s", type=float, default=None, help="stop mutating after this many seconds")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2, help="mutants run in parallel")
    parser.add_argument("--min-kill", type=float, default=0.9, help="fail a module under this kill rate")
    parser.add_argument("--tests", nargs="+", default=[], help="test paths to run (default: [tool.mutmut]'s)")
    parser.add_argument("--report", type=Path, help="also write the report (with diffs) to this file")
    parser.add_argument("--report-only", action="store_true", help="summarise mutants/ without running")
    args = parser.parse_args()

    globs = core_globs()
    if args.changed:
        files = changed_core_files(args.changed, globs)
    elif args.files:
        unknown = [f for f in args.files if not is_core(f, globs)]
        if unknown:
            parser.error(f"not core modules ([tool.mutmut] only_mutate): {unknown}")
        files = sorted(args.files)
    else:
        files = core_files(globs)
    if not files:
        print("no core module to mutate" + (f" changed since {args.changed}" if args.changed else ""))
        return 0
    if not args.report_only:
        run_mutmut(files, args.tests, args.budget_s, args.children)
    scores = [score(f) for f in files]
    print(render(scores, with_diffs=False))
    if args.report:
        args.report.write_text(render(scores, with_diffs=True) + "\n")
        print(f"report with every survivor's diff: {args.report}")
    problems = failures(scores, args.min_kill)
    for problem in problems:
        print("FAIL", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
