"""The GPU check script runs end to end on the CPU (--dry-run), so it is ready when a GPU is lent."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_checks_dry_run_writes_every_table(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/gpu/run_gpu_checks.py", "--dry-run", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    summary = (tmp_path / "summary.md").read_text()
    assert done.returncode == 0, summary + done.stdout + done.stderr
    for step in ("env", "tests", "bench_fit_256", "bench_fit_4096", "bench_transform", "grid_search_1",
                 "grid_search_2"):
        assert (tmp_path / f"{step}.txt").stat().st_size > 0
        assert f"| {step} | ok |" in summary
    assert "models per hour" in (tmp_path / "grid_search_2.txt").read_text()
    assert "time ratio skbvae (n_jobs=-1, the loop's threads) / plain loop" in (tmp_path / "bench_fit_4096.txt").read_text()
