"""The data files pyproject.toml declares (`[tool.setuptools.package-data]`), found in the checkout:
what the wheel (test_packaging.py) and the bundle (bundle/) must both carry.

Read from pyproject.toml rather than listed again, so a file type added there (the web
client's files, a new translation) is checked in both without touching the tests.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PACKAGES = ("client", "server")


def declared_data_files(root: Path) -> set[str]:
    """Paths like 'client/assets/studymatch.svg', relative to the checkout, as setuptools picks them:
    a package's own patterns from its folder, the "*" patterns from every folder under a package
    (pyproject's package discovery finds namespace packages, so every folder is one)."""
    package_data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    found: set[Path] = set()
    for package in PACKAGES:
        base = root / package
        for pattern in package_data.get(package, []):
            found.update(base.glob(pattern))
        folders = [base, *(p for p in base.rglob("*") if p.is_dir() and p.name != "__pycache__")]
        for folder in folders:
            for pattern in package_data.get("*", []):
                found.update(folder.glob(pattern))
    return {p.relative_to(root).as_posix() for p in found if p.is_file()}
