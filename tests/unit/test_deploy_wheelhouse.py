"""apps.deploy.wheelhouse: the dependency closure names what this venv cannot give, and a repacked
installed distribution is a wheel pip installs (offline) and Python imports."""
import subprocess
import sys

import pytest

from apps.deploy.wheelhouse import build, closure


def test_closure_follows_dependencies_and_names_what_is_missing():
    found = closure(["httpx"])
    assert {"httpx", "httpcore", "anyio", "idna", "certifi"} <= set(found)
    with pytest.raises(ValueError, match="no-such-package-xyz"):
        closure(["no-such-package-xyz"])
    with pytest.raises(ValueError, match="needs six==0.0.1"):
        closure(["six==0.0.1"])


def test_a_repacked_wheel_installs_offline_and_imports(tmp_path):
    report = build(["six"], tmp_path / "house")
    [wheel] = report["built"]
    assert wheel.startswith("six-") and wheel.endswith(("-py2.py3-none-any.whl", "-py3-none-any.whl"))
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target",
                           str(target), str(tmp_path / "house" / wheel)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([sys.executable, "-S", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); import six; "
                          "print(six.__file__)"], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().startswith(str(target)), out.stderr
    assert build(["six"], tmp_path / "house")["kept"] == 1  # kept, not built again
