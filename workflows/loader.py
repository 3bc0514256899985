"""Load workflow definitions from YAML and report problems as `file:line: message`.

Organisations add a workflow by dropping a YAML file in a folder; a mistake in it must name the
file and line, because the person fixing it is editing YAML, not reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.model import Workflow

BUILTIN_DIR = Path(__file__).parent / "definitions"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class DefinitionError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _node_line(root: yaml.Node | None, loc: Iterable[Any]) -> int:
    """Follow a pydantic error location through the YAML node tree to the closest line."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    child = value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def parse(text: str, path: Path) -> Workflow:
    """Parse one definition; raise DefinitionError listing every problem with its line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Problem(path, line, f"invalid YAML: {reason}")]) from None
    if not isinstance(data, dict):
        raise DefinitionError([Problem(path, 1, "a workflow definition must be a YAML mapping")])
    try:
        workflow = Workflow.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
            loc += getattr((err.get("ctx") or {}).get("error"), "loc", ())  # model.Located
            where = ".".join(str(p) for p in loc) or "(top level)"
            message = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(path, _node_line(root, loc), f"{where}: {message}"))
        raise DefinitionError(problems) from None
    # Wording rules for files only: pinned definitions of running reviews are not re-judged.
    problems = [
        Problem(
            path,
            _node_line(root, ["stages", index, "short_name"]),
            f"stages.{index}.short_name: {problem}",
        )
        for index, stage in enumerate(workflow.stages)
        if (problem := stage.short_name_problem())
    ]
    if problems:
        raise DefinitionError(problems)
    return workflow


def load_file(path: Path) -> Workflow:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # a problem in the file, reported like any other
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DefinitionError([Problem(path, line, "not UTF-8 text")]) from None
    except OSError as exc:
        raise DefinitionError([Problem(path, 1, f"cannot read: {exc.strerror}")]) from None
    workflow = parse(text, path)
    if workflow.key != path.stem:
        raise DefinitionError(
            [Problem(path, 1, f"key {workflow.key!r} must match the file name {path.stem!r}")]
        )
    return workflow


def definition_files(folders: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in folders:
        if folder.is_file():
            files.append(folder)
        else:
            files.extend(sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")))
    return files


class Registry:
    """The workflows a deployment offers: the built-in ones plus an organisation's folder."""

    def __init__(self, workflows: dict[str, Workflow]):
        self._workflows = workflows

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> Registry:
        folders = [BUILTIN_DIR] + ([extra_dir] if extra_dir else [])
        workflows: dict[str, Workflow] = {}
        problems: list[Problem] = []
        for path in definition_files(folders):
            try:
                wf = load_file(path)
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            workflows[wf.key] = wf  # an organisation's file overrides a built-in of that key
        if problems:
            raise DefinitionError(problems)
        return cls(workflows)

    def __getitem__(self, key: str) -> Workflow:
        return self._workflows[key]

    def __contains__(self, key: object) -> bool:
        return key in self._workflows

    def all(self) -> list[Workflow]:
        return list(self._workflows.values())

    def find(self, text: str) -> Workflow | None:
        """Match a user's word (`campaign`, `support`, a key or a name) to one workflow."""
        word = text.strip().lower().replace("-", "_")
        if not word:
            return None
        if word in self._workflows:
            return self._workflows[word]
        matches = [
            w
            for w in self._workflows.values()
            if w.key.startswith(word) or w.name.lower().startswith(word.replace("_", " "))
        ]
        return matches[0] if len(matches) == 1 else None
