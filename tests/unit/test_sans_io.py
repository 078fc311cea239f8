"""The protocol package stays sans-IO: no sockets, threads, asyncio or clock."""

from __future__ import annotations

import ast
import pathlib

import engineio_core.protocol

FORBIDDEN = {"socket", "threading", "asyncio", "time", "select", "selectors", "ssl", "queue"}


def test_protocol_imports_nothing_that_does_io() -> None:
    root = pathlib.Path(engineio_core.protocol.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
