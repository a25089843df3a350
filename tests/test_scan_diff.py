"""What a scan shows is what would be written: the diff of every `--no-verify`
finding applies with `git apply`, and the result compiles, imports, and every
global name its rewritten function reads is defined (a helper or an import a pass
needs is in the diff). `--no-verify --diff` shows the same texts."""

from __future__ import annotations

import builtins
import dis
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType

from passes import all_passes
from passes.base import first_function


def _git(repo: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run(["git", *args], cwd=repo, input=stdin, text=True, check=True,
                   capture_output=True)  # fmt: skip


def _globals_read(code: CodeType) -> Iterator[str]:
    for instruction in dis.get_instructions(code):
        if instruction.opname == "LOAD_GLOBAL":
            yield str(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _globals_read(constant)


def _scan(repo: Path, output: str) -> str:
    scan = subprocess.run(
        [sys.executable, "-m", "pipeline", output, "--no-verify", "--no-llm", "."],
        cwd=repo, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert scan.returncode in (0, 1), scan.stderr
    return scan.stdout


def test_every_scan_diff_applies_and_the_result_imports(tmp_path: Path) -> None:
    examples = {  # a scan has no trace: not the examples of passes that need a profile
        f"ex_{pass_class.code}_{index}.py": example.before
        for pass_class in all_passes()
        for index, example in enumerate(pass_class.EXAMPLES)
        if not example.profiles
    }
    for name, source in examples.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "examples")
    diffs = {
        entry["path"]: [o["diff"] for o in entry["outcomes"]]
        for entry in json.loads(_scan(tmp_path, "--json"))["files"]
    }
    assert set(diffs) == set(examples), "every example is found by the scan"
    # `--diff` shows the same text as each finding's diff in `--json`.
    _git(tmp_path, "apply", stdin=_scan(tmp_path, "--diff"))
    from_diff = {name: (tmp_path / name).read_text(encoding="utf-8") for name in examples}
    _git(tmp_path, "checkout", "--", ".")
    for name, found in diffs.items():
        assert len(found) == 1, name
        _git(tmp_path, "apply", stdin=found[0])
        path = tmp_path / name
        assert path.read_text(encoding="utf-8") == from_diff[name], name
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        function = getattr(module, first_function(examples[name]))
        missing = {
            global_name
            for global_name in _globals_read(function.__code__)
            if global_name not in vars(module) and not hasattr(builtins, global_name)
        }
        assert not missing, f"{name}: the diff leaves {missing} undefined"
