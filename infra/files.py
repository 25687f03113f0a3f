"""Writing artefacts reproducibly: the same input gives the same bytes (sorted entries, fixed
times and modes in zips, LF text, no host paths)."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ZIP_TIME",
    "copy_files",
    "digest",
    "dump_json",
    "dump_yaml",
    "fresh_dir",
    "python_dockerfile",
    "write_text",
    "write_zip",
]

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no build time inside


def fresh_dir(path: Path) -> Path:
    """An empty directory at `path` (what a previous build left there is removed)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_text(path: Path, text: str, *, executable: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    path.chmod(0o755 if executable else 0o644)
    return path


def dump_yaml(documents: Iterable[Any]) -> str:
    """YAML documents, keys in the order given, separated by `---`."""
    return "---\n".join(
        yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100)
        for doc in documents
    )


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def copy_files(root: Path, files: Iterable[str], dest: Path) -> None:
    """Copy repository-relative `files` from `root` under `dest`, keeping their paths."""
    for name in sorted(files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((root / name).read_bytes())
        target.chmod(0o644)


def _mode(source: Path) -> int:
    executable = source.stat().st_mode & stat.S_IXUSR
    return (stat.S_IFREG | (0o755 if executable else 0o644)) << 16


def write_zip(out: Path, entries: Mapping[str, Path | bytes], *, append: bool = False) -> Path:
    """A zip of `entries` (archive name -> file or content), sorted by name, every entry at
    ZIP_TIME with mode 644 (755 for executable files), deflated at level 6; `append` adds them
    after the entries `out` holds already."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "a" if append else "w") as archive:
        for name in sorted(entries):
            content = entries[name]
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.create_system = 3  # unix: the mode below is read
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(content, Path):
                info.external_attr = _mode(content)
                data = content.read_bytes()
            else:
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                data = content
            archive.writestr(info, data, compresslevel=6)
    return out


def digest(folder: Path) -> str:
    """A short content digest of every file under `folder` (names and bytes)."""
    sha = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def python_dockerfile(comment: str, tail: str) -> str:
    """A Dockerfile installing a source dir's exact pins on python:3.11-slim, then `tail`."""
    return (
        f"{comment}FROM python:3.11-slim\n"
        "ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1\n"
        "WORKDIR /workspace\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-deps -r requirements.txt\n"
        "COPY . .\n"
        "USER 65532\n"
        f"{tail}"
    )
