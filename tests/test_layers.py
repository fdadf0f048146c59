"""The layering rule of STYLE.md: packages import downward only; the engines are siblings."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pywamr"
RANK = {"errors": 0, "config": 0, "record": 0, "binary": 1, "validate": 2, "runtime": 3, "interp": 4,
        "aot": 4, "engine": 5, "component": 6, "wasi": 7, "wast": 7.5,
        "wast_component": 7.6, "cli": 8}


def layer_of(relative: Path) -> str:
    return relative.parts[0].removesuffix(".py")


def imported_layers(path: Path, relative: Path):
    tree = ast.parse(path.read_text())
    own_parts = list(relative.parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = own_parts[:len(own_parts) - (node.level - 1)] if node.level > 1 else own_parts
            target = base + (node.module.split(".") if node.module else [])
            if not target and node.names:
                target = [node.names[0].name]
            if target:
                yield target[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pywamr."):
            yield node.module.split(".")[1], node.lineno


def test_imports_point_downward():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("__init__.py", "__main__.py"):
            continue
        mine = layer_of(relative)
        for target, line in imported_layers(path, relative):
            if target not in RANK or target == mine:
                continue
            if RANK[target] > RANK[mine] or (RANK[target] == RANK[mine] and target != mine):
                problems.append(f"{relative}:{line} ({mine}) imports {target}")
    assert not problems, "\n".join(problems)
