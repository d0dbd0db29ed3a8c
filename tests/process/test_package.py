"""How the bot is installed: by make from the lock (a broken .venv made again), as a wheel
(Indonesian comes along), as a Docker image (its recipe)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOOK_FROM_THE_INSTALL = """
import sys
from bot.telegram.i18n import LOCALES_DIR, I18n
assert LOCALES_DIR.is_relative_to(sys.prefix), LOCALES_DIR
print(I18n("en").get("id")._("Sorry, this bot is private."))
"""


def test_a_wheel_installed_in_a_fresh_venv_speaks_indonesian(tmp_path: Path) -> None:
    source = tmp_path / "source"  # built from a copy: a build leaves files where it runs
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path, source],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("smm_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"bot/locales/id/LC_MESSAGES/bot.po", "bot/locales/en/LC_MESSAGES/bot.po"} <= set(names)

    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    (site,) = fresh.glob("lib/python*/site-packages")
    # The dependencies come from this environment's packages; the project only from the wheel.
    dependencies = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    (site / "dependencies.pth").write_text(f"{dependencies}\n")
    python = fresh / "bin" / "python"
    subprocess.run(
        [*pip, "--python", python, "install", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    said = subprocess.run(
        [python, "-c", LOOK_FROM_THE_INSTALL],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert said.stdout.strip() == "Maaf, bot ini bersifat pribadi."


def test_the_image_installs_the_lock_before_the_code_and_is_sent_no_secret() -> None:
    """What scripts/docker-smoke.sh checks with a Docker daemon, read from the files here."""
    recipe = (ROOT / "Dockerfile").read_text()
    lock = recipe.index("RUN pip install --require-hashes -r requirements.lock")
    assert lock < recipe.index("COPY bot ./bot")  # a change to the code reuses the packages
    assert 'CMD ["smm-bot", "health"]' in recipe  # the heartbeat, not the panel
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line.removeprefix("!") for line in ignored if line.startswith("!")}
    assert "*" in ignored  # nothing else: no .env, .venv, database, .git
    assert allowed == {"requirements.lock", "pyproject.toml", "README.md", "bot/"}


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_makes_a_venv_without_pip_again(tmp_path: Path) -> None:
    """A first `make run` on Debian without python3-venv leaves a .venv with no pip in it: the
    next one starts it over instead of failing on `.venv/bin/pip: No such file`."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path)
    venv.create(tmp_path / ".venv", with_pip=False)
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", ".venv/.installed", f"PYTHON={sys.executable}"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    made_again = planned.index("rm -rf .venv")
    assert planned[made_again + 1].startswith(f"{sys.executable} -m venv .venv")
    assert planned[made_again + 3] == (
        ".venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock"
    )
