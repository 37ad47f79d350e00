"""It installs as a tool: the wheel (not an editable checkout) in a fresh venv gives a
`leadms` that works from any directory, demo data and migrations included (what pipx does)."""

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout + done.stderr


@pytest.mark.slow
def test_the_wheel_installs_in_a_fresh_venv_and_runs_from_anywhere(tmp_path):
    wheels, venv, elsewhere = tmp_path / "wheels", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        str(wheels),
        str(ROOT),
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("leadms-*.whl")
    # data/ at the top of the source tree is the package leadms_tui.data in the wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"leadms_tui/data/demo/leads.csv", "leadms_tui/data/samples/csv/not_a_csv.bin"} <= names
    assert not any(name.startswith("data/") for name in names)
    _run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path)
    _run(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), cwd=tmp_path)
    leadms = str(venv / "bin" / "leadms")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    env.pop("LEADMS_DATABASE_URL", None)
    env.pop("LEADMS_DATA_DIR", None)
    assert _run(leadms, "--version", cwd=elsewhere, env=env).startswith("leadms ")
    assert "demo" in _run(leadms, "--help", cwd=elsewhere, env=env)
    built = _run(leadms, "demo", "--build-only", cwd=elsewhere, env=env)
    assert "demo database ready" in built
    installed = _run(
        str(venv / "bin" / "python"),
        "-c",
        "import leadms_tui, pathlib; print(pathlib.Path(leadms_tui.__file__).parent)",
        cwd=elsewhere,
    )
    assert str(ROOT) not in installed  # the installed copy, not this checkout


def test_every_package_folder_is_listed_for_the_wheel():
    """pyproject lists the packages (data/ is mapped into leadms_tui.data, which discovery
    cannot follow): a new folder of modules left off the list would be missing from the wheel,
    and a listed folder that is gone would break every install."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    folders = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in (ROOT / "leadms_tui").rglob("*")
        if folder.is_dir() and any(folder.glob("*.py"))
    }
    assert listed - {"leadms_tui.data"} == folders | {"leadms_tui"}
    assert (ROOT / "data" / "__init__.py").is_file()
