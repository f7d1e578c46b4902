"""bertviz's JavaScript (require.js, d3, jQuery), brought from the npm registry once, served locally.

bertviz loads these from a CDN; the lab must work offline and commits no third-party JS. So
`make install` runs this module once: each file is taken out of its npm package (`npm pack`, or
the registry tarball when npm is missing), checked against a pinned sha256, and written atomically
into `apps/attention/static/vendor/` (gitignored). A second run with the files present does nothing.

    python -m apps.attention.assets fetch        # idempotent, offline-safe once done
    python -m apps.attention.assets check        # exit 1 if a file is missing or altered
"""
from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
URL_PREFIX = "attention/vendor"  # relative to the page, so a proxy prefix (/proxy/7860/) still works
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Asset:
    package: str
    version: str
    member: str  # path inside the npm tarball
    name: str  # file name under VENDOR_DIR
    sha256: str

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.package}/-/{self.package}-{self.version}.tgz"


# bertviz 1.4 asks for d3 5.7.0 and jQuery 2.0.0; npm's jquery starts at 2.1, so 2.2.4 (same API).
ASSETS = (
    Asset("requirejs", "2.3.6", "package/require.js", "require.js",
          "9485f0917f97fcf4f63a5ea365200ffd57f123f451382a2f9a1ad2e2fd51ac9b"),
    Asset("d3", "5.7.0", "package/dist/d3.min.js", "d3.min.js",
          "bdad5585ef9a965ff25458738309b006058c55f2c78d794d25fbecae35014609"),
    Asset("jquery", "2.2.4", "package/dist/jquery.min.js", "jquery.min.js",
          "05b85d96f41fff14d8f608dad03ab71e2c1017c2da0914d7c59291bad7a54f8e"),
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def present(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when every asset is on disk with its pinned hash."""
    return all(_ok(vendor_dir / a.name, a) for a in ASSETS)


def _ok(path: Path, asset: Asset) -> bool:
    return path.is_file() and _sha256(path.read_bytes()) == asset.sha256


def _tarball(asset: Asset, workdir: Path) -> bytes:
    """The package tarball: through npm (its cache, its proxy settings), else straight from the registry."""
    spec = f"{asset.package}@{asset.version}"
    if shutil.which("npm"):
        done = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            files = sorted(workdir.glob(f"{asset.package}-{asset.version}.tgz"))
            if files:
                return files[0].read_bytes()
    with urllib.request.urlopen(asset.tarball_url, timeout=60) as response:  # noqa: S310 - fixed https URL
        return response.read()


def fetch(vendor_dir: Path = VENDOR_DIR, quiet: bool = False) -> list[str]:
    """Bring every missing or altered asset; return the names fetched (empty when all were there)."""
    vendor_dir.mkdir(parents=True, exist_ok=True)
    fetched = []
    for asset in ASSETS:
        target = vendor_dir / asset.name
        if _ok(target, asset):
            continue
        with tempfile.TemporaryDirectory() as work:
            blob = _tarball(asset, Path(work))
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            data = tar.extractfile(asset.member).read()
        if _sha256(data) != asset.sha256:
            raise RuntimeError(f"{asset.package}@{asset.version}:{asset.member} has sha256 {_sha256(data)}, "
                               f"expected {asset.sha256}")
        tmp = target.with_name(f".{asset.name}.partial")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic: a page never sees half a file
        fetched.append(asset.name)
        if not quiet:
            print(f"fetched {asset.package}@{asset.version} → {target}")
    return fetched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.attention.assets", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["fetch", "check"], help="fetch missing files, or only check them")
    parser.add_argument("--dir", type=Path, default=VENDOR_DIR, help="where the files go (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.action == "check":
        missing = [a.name for a in ASSETS if not _ok(args.dir / a.name, a)]
        print("ok" if not missing else "missing or altered: " + ", ".join(missing))
        return 1 if missing else 0
    try:
        fetch(args.dir)
    except Exception as exc:  # noqa: BLE001 - a clear line for `make install`, then a failing exit
        print(f"could not fetch bertviz's JavaScript from npm: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
