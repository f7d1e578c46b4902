"""Logic modules must import without gradio: only view.py files, ui.py and shell.py may."""
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIEW_NAMES = {"view", "ui", "shell"}


def logic_modules():
    for package in ("apps", "rag", "curriculum"):
        if not (ROOT / package).exists():
            continue
        pkg = importlib.import_module(package)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
            last = info.name.rsplit(".", 1)[-1]
            if last not in VIEW_NAMES and not last.startswith("view") and not info.name.endswith("__main__"):
                yield info.name


def test_logic_modules_do_not_import_gradio():
    names = sorted(logic_modules())
    assert "apps.models.generation" in names
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "bad = [m for m in sys.modules if m == 'gradio' or m.startswith('gradio.')]\n"
        "print('GRADIO' if bad else 'CLEAN')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("CLEAN"), "a logic module pulled in gradio"
