"""The simulator's output for a benchmark: run once, cached under ``var/bench/``, reused.

Shared by ``bench/outcomes.py`` (the federal-shaped tables) and ``bench/matching.py`` (the
persons file with its ground truth). The simulator runs as its own process, through
``kinfolk simulate run``, so its memory is not counted against the benchmark's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"


def simulate(scale: str, years: int, seed: int, directory: Path, fresh: bool) -> dict[str, object]:
    """The simulator's output in ``directory`` (reused when already there); its manifest."""
    manifest = directory / "simulation.json"
    if manifest.is_file() and not fresh:
        print(f"simulator output reused from {directory}")
        return dict(json.loads(manifest.read_text(encoding="utf-8")))
    kinfolk = Path(sys.executable).with_name("kinfolk")
    command = [
        str(kinfolk) if kinfolk.exists() else sys.executable,
        *([] if kinfolk.exists() else ["-m", "kinfolk.cli"]),
        "simulate",
        "run",
        "--scale",
        scale,
        "--years",
        str(years),
        "--seed",
        str(seed),
        "--output",
        str(directory),
        "--force",
    ]
    begin = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"simulated {scale}, {years} year(s), seed {seed} in {time.perf_counter() - begin:.1f} s")
    return dict(json.loads(manifest.read_text(encoding="utf-8")))


def simulated(
    scale: str, years: int, seed: int, scratch: Path, *, fresh: bool = False
) -> tuple[Path, dict[str, object]]:
    """A simulator run's directory and manifest: cached in ``var/bench/`` when the checkout has
    a ``var/`` directory, else made in ``scratch``. A failed run leaves no half cache."""
    if CACHE.parent.is_dir():
        directory = CACHE / f"simulate-{scale}-{years}y-seed{seed}"
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = scratch / "simulated"
    try:
        return directory, simulate(scale, years, seed, directory, fresh)
    except BaseException:
        if directory.parent == CACHE:
            shutil.rmtree(directory, ignore_errors=True)
        raise
