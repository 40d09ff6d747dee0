"""Every example runs end to end (tiny sizes) and writes its figures."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_WFDB, needs_wfdb

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
    "plot_named_factors.py": (["--n-beats", "400", "--epochs", "2"], ["named_factors.png"]),
}


def test_distributed_example_matches_serial():
    pytest.importorskip("dask.distributed")
    result = subprocess.run([sys.executable, str(EXAMPLES / "distributed_grid_search.py"), "--workers", "2",
                             "--n-beats", "300", "--epochs", "1", "--check"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "same best parameters: True; same scores: True" in result.stdout


#: What the long examples say while they run (a 5.6-minute run once printed nothing until its end):
#: the β-VAE's progress on standard error (verbose=1), and the folds done.
PROGRESS = {
    "plot_ecg_traversal.py": ("", "BetaVAETransformer: 2 epoch(s) in"),
    "generate_and_manipulate.py": ("", "BetaVAETransformer: 1 epoch(s) in"),
    "classify_beats.py": ("fold 1/2: ", "BetaVAETransformer: 1 epoch(s) in"),
    "plot_named_factors.py": ("codes: heart_rate, r_amplitude, qrs_duration", "BetaVAETransformer: 2 epoch(s) in"),
}


def run(script, args, out, with_stderr=False):
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args, "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return (result.stdout, result.stderr) if with_stderr else result.stdout


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_and_writes_figures(script, tmp_path):
    args, figures = CASES[script]
    stdout, stderr = run(script, args, tmp_path, with_stderr=True)
    assert "written to" in stdout
    for figure in figures:
        assert (tmp_path / figure).stat().st_size > 5000
    said_out, said_err = PROGRESS.get(script, ("", ""))
    assert said_out in stdout and said_err in stderr, stderr[-2000:]


@needs_wfdb("100.hea", "100.dat", "s0010_re.hea", "s0010_re.dat")
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


def _annotated_folder(folder, seeds, leads=("MLII",)):
    """Records of make_ecg with their beats' MIT-BIH symbols as .atr annotations (a second lead: the first, halved)."""
    import numpy as np
    import wfdb

    from skbvae.datasets import make_ecg

    folder.mkdir()
    for seed in seeds:
        ecg, peaks, kinds = make_ecg(60.0, fs=250, heart_rate=60 + 5 * seed, rhythm="bigeminy", random_state=seed,
                                     return_kinds=True)
        name = f"r{seed}"
        signals = np.column_stack([ecg * (1.0 - 0.5 * k) for k in range(len(leads))])
        wfdb.wrsamp(name, fs=250, units=["mV"] * len(leads), sig_name=list(leads), p_signal=signals,
                    fmt=["16"] * len(leads), adc_gain=[1000.0] * len(leads), baseline=[0] * len(leads),
                    write_dir=str(folder))
        wfdb.wrann(name, "atr", np.asarray(peaks), symbol=list(kinds), write_dir=str(folder))
    return folder


def test_classify_beats_fits_on_one_folder_and_scores_another(tmp_path):
    train = _annotated_folder(tmp_path / "train", [0, 1, 2])
    test = _annotated_folder(tmp_path / "test", [3, 4])
    stdout = run("classify_beats.py", ["--train", str(train), "--test", str(test), "--epochs", "1", "--leads", "1",
                                       "--representation", "pca", "--classifier", "hgb"], tmp_path / "out")
    assert "fit on" in stdout and "patients" in stdout and "train one folder, test another" in stdout
    assert re.search(r"jk index \d\.\d{3}", stdout)


def test_classify_beats_on_two_leads_and_says_when_a_record_has_one(tmp_path):
    two = _annotated_folder(tmp_path / "two", [0, 1, 2], leads=("V1", "MLII"))
    stdout = run("classify_beats.py", ["--wfdb", str(two), "--epochs", "1", "--folds", "3"], tmp_path / "out")
    # MLII first (the loader is asked for each record's own pair), two channels into the beta-VAE.
    assert "leads MLII,V1" in stdout and "loaded 3 records" in stdout
    assert re.search(r"jk index \d\.\d{3}", stdout)
    one = _annotated_folder(tmp_path / "one", [0, 1])
    result = subprocess.run([sys.executable, str(EXAMPLES / "classify_beats.py"), "--wfdb", str(one),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert result.returncode != 0 and "one lead only (MLII); run with --leads 1" in result.stderr
