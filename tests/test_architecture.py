"""The house plan holds: imports run one way, between modules and between the stage packages."""
from __future__ import annotations

from functools import lru_cache

import pytest

grimp = pytest.importorskip("grimp")


@pytest.fixture(scope="module")
def graph() -> "grimp.ImportGraph":
    return grimp.build_graph("mtqc", cache_dir=None)


def _package(module: str) -> str:
    """The stage a module belongs to: mtqc.batch.plan -> mtqc.batch; top-level modules are their own."""
    return ".".join(module.split(".")[:2])


def test_no_module_imports_itself_back(graph: "grimp.ImportGraph") -> None:
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(imported, module), f"{module} -> {imported} -> ... -> {module}"


def test_stage_packages_form_layers_of_at_most_ten(graph: "grimp.ImportGraph") -> None:
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if _package(module) != _package(imported):
                edges.setdefault(_package(module), set()).add(_package(imported))

    @lru_cache(maxsize=None)
    def depth(package: str, seen: frozenset[str] = frozenset()) -> int:
        assert package not in seen, f"packages import each other around {sorted(seen)}"
        return 1 + max((depth(p, seen | {package}) for p in edges.get(package, ())), default=0)

    assert max(depth(p) for p in {_package(m) for m in graph.modules}) <= 10
