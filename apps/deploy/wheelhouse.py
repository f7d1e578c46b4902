"""A wheelhouse made from the packages installed here, so an exported app's requirements.txt can be
installed into a brand-new venv with no network at all:

    python -m apps.deploy.wheelhouse my-app/requirements.txt --output ~/.cache/llmlab/wheelhouse
    python -m venv fresh && fresh/bin/pip install --no-index --find-links ~/.cache/llmlab/wheelhouse -r my-app/requirements.txt

`closure(requirements)` follows Requires-Dist (markers evaluated for this interpreter, extras
included) through the installed distributions and checks every version specifier on the way, so a
requirement set that this environment cannot satisfy is named before anything is built. `build()`
repacks each installed distribution into a wheel (its RECORD's files, minus bytecode and scripts,
which pip regenerates from entry_points.txt), with a fresh RECORD of sha256 hashes. Already built
wheels are kept. bench/export_install.py times the whole fresh install.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

SKIP_META = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """{normalised name: installed distribution} of the requirements and everything they need.
    Raises ValueError naming a missing package or an installed version that breaks a specifier."""
    env = default_environment()
    found: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(r), None) for r in requirements if r.strip() and not r.startswith(("#", "-"))]
    while todo:
        req, parent = todo.pop()
        name = _norm(req.name)
        try:
            dist = found.get(name) or metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise ValueError(f"{req.name} (needed by {parent or 'requirements.txt'}) is not installed") from None
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise ValueError(f"{req.name} {dist.version} is installed, {parent or 'requirements.txt'} needs {req}")
        extras = set(req.extras)
        seen = name in found
        found[name] = dist
        for line in dist.requires or []:
            sub = Requirement(line)
            wanted = sub.marker is None or any(sub.marker.evaluate({**env, "extra": e}) for e in extras | {""})
            if wanted and (not seen or extras):
                todo.append((sub, dist.metadata["Name"]))
    return found


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _tags(dist: metadata.Distribution) -> str:
    """'py3-none-any' from the installed WHEEL file's Tag lines (several compressed as 'py2.py3')."""
    text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]
    if not tags:
        raise ValueError(f"{dist.metadata['Name']} was not installed from a wheel (no WHEEL file)")
    parts = [sorted({t.split("-")[i] for t in tags}) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def wheel_name(dist: metadata.Distribution) -> str:
    return f"{re.sub(r'[-_.]+', '_', dist.metadata['Name'])}-{dist.version}-{_tags(dist)}.whl"


def repack(dist: metadata.Distribution, target: Path) -> None:
    """Write `dist` as the wheel file `target` (deflate level 1: a 750 MB torch in seconds, not minutes)."""
    root = Path(dist.locate_file(""))
    records = []
    tmp = target.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info_dir = None
        for f in dist.files or []:
            rel = str(f)
            parts = Path(rel).parts
            if rel.startswith("..") or "__pycache__" in parts or rel.endswith(".pyc"):
                continue  # scripts live outside site-packages (pip makes them again); bytecode is rebuilt
            if parts[0].endswith(".dist-info"):
                info_dir = parts[0]
                if parts[-1] in SKIP_META:
                    continue
            path = root / rel
            if not path.is_file():
                continue
            data = path.read_bytes()
            zf.writestr(rel, data)
            records.append(f"{rel},{_digest(data)},{len(data)}")
        if info_dir is None:
            raise ValueError(f"{dist.metadata['Name']}: no .dist-info in its RECORD")
        records.append(f"{info_dir}/RECORD,,")
        zf.writestr(f"{info_dir}/RECORD", "\n".join(records) + "\n")
    tmp.replace(target)


def build(requirements: list[str], output: str | Path) -> dict:
    """Wheels for the closure of `requirements` in `output` (kept ones reused). Returns what was done."""
    out = Path(output).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    dists = closure(requirements)
    made, kept = [], []
    for dist in sorted(dists.values(), key=lambda d: _norm(d.metadata["Name"])):
        target = out / wheel_name(dist)
        if target.exists():
            kept.append(target.name)
            continue
        repack(dist, target)
        made.append(target.name)
    return {"output": str(out), "packages": len(dists), "built": made, "kept": len(kept),
            "size_mb": round(sum(p.stat().st_size for p in out.glob("*.whl")) / (1 << 20), 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("requirements", help="a requirements.txt (an exported app's)")
    parser.add_argument("--output", required=True, help="the wheelhouse folder (wheels already there are kept)")
    args = parser.parse_args(argv)
    try:
        lines = Path(args.requirements).read_text(encoding="utf-8").splitlines()
        print(json.dumps(build(lines, args.output), indent=2))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
