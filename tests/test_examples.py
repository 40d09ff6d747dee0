"""Every example runs end to end (tiny sizes) and writes its figures."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NO_RECORDS, SHARED_WFDB

pytest.importorskip("matplotlib")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = {
    "plot_ecg_traversal.py": (["--n-beats", "300", "--epochs", "2"],
                              ["ecg_traversal.png", "ecg_traversal_seed.png", "ecg_latent_vs_factor.png",
                               "ecg_latent_kl.png", "ecg_history.png", "ecg_reconstructions.png"]),
    "plot_price_windows.py": (["--n-windows", "300", "--epochs", "2"],
                              ["price_fan.png", "price_traversal.png", "price_latent_kl.png"]),
    "grid_search_beta_capacity.py": (["--n-beats", "300", "--epochs", "1", "--latent-dim", "3"],
                                     ["grid_search.png", "latent_vs_factor.png"]),
    "classify_latents.py": (["--n-beats", "300", "--epochs", "1"], ["classify_latents.png"]),
    "generate_and_manipulate.py": (["--n-beats", "300", "--epochs", "1"], ["generated_beats.png", "manipulated_beat.png"]),
    "transfer_between_databases.py": (["--epochs", "2"], ["transfer_traversal.png"]),
    "plot_messy_ecg.py": (["--seconds", "10"], ["messy_ecg.png"]),
    "classify_beats.py": (["--patients", "5", "--seconds", "40", "--epochs", "1", "--folds", "2"],
                          ["classify_beats.png"]),
}


def test_distributed_example_matches_serial():
    pytest.importorskip("dask.distributed")
    result = subprocess.run([sys.executable, str(EXAMPLES / "distributed_grid_search.py"), "--workers", "2",
                             "--n-beats", "300", "--epochs", "1", "--check"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "same best parameters: True; same scores: True" in result.stdout


def run(script, args, out):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_and_writes_figures(script, tmp_path):
    args, figures = CASES[script]
    stdout = run(script, args, tmp_path)
    assert "written to" in stdout
    for figure in figures:
        assert (tmp_path / figure).stat().st_size > 5000


@pytest.mark.skipif(not (SHARED_WFDB / "100.hea").is_file(), reason=NO_RECORDS)
def test_ecg_example_on_real_records(tmp_path):
    # The two clean records (MIT-BIH 100, PTB s0010_re) in a folder of their own:
    # the shared folder also holds messy records made to break loaders.
    records = tmp_path / "records"
    records.mkdir()
    for path in SHARED_WFDB.iterdir():
        if path.stem in ("100", "s0010_re"):
            (records / path.name).symlink_to(path)
    stdout = run("plot_ecg_traversal.py", ["--wfdb", str(records), "--epochs", "2"], tmp_path)
    # 100: 2,270 beats (its PVC kept as a lone ectopic beat); s0010_re: 50.
    assert "2320 beats" in stdout
