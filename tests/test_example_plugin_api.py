"""The example third-party plugin uses only engineio-core's public API."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "eio-starlette" / "eio_starlette"
PUBLIC_MODULES = {
    "engineio_core",
    "engineio_core.plugin",
    "engineio_core.plugin.asyncio_mode",
    "engineio_core.plugin.wsgi_mode",
    "engineio_core.testing",
}


def engineio_imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engineio"):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("engineio"):
                    found.append((alias.name, []))
    return found


def test_example_plugin_imports_only_public_names() -> None:
    files = sorted(EXAMPLE.glob("*.py"))
    assert files
    seen = 0
    for path in files:
        for module, names in engineio_imports(path):
            seen += 1
            assert module in PUBLIC_MODULES, f"{path.name} imports private module {module}"
            exported = set(getattr(importlib.import_module(module), "__all__", ()))
            for name in names:
                assert not name.startswith("_"), f"{path.name} imports {module}.{name}"
                assert name in exported, f"{path.name}: {module}.{name} is not in its __all__"
    assert seen >= 3


def test_public_modules_export_what_they_document() -> None:
    for module in PUBLIC_MODULES:
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", ()):
            assert hasattr(mod, name), f"{module}.__all__ names missing {name}"
