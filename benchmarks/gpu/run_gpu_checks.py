"""Everything a GPU run needs, in one command of at most ~8 minutes: tests, fit and transform speed, grid search.

When a GPU machine is lent (about 15 minutes in all, starts included), run::

    python benchmarks/gpu/run_gpu_checks.py --out gpu_results

It writes to ``--out`` one text file per step and ``summary.md``:

1. ``env.txt``: torch, CUDA, the device's name and memory.
2. ``tests.txt``: the estimator's tests on the GPU (``device="auto"`` picks
   CUDA there): training, variances, groups, model files, errors.
3. ``bench_fit_256.txt`` / ``bench_fit_4096.txt``: ``bench_fit.py`` against
   the plain PyTorch loop at batch 256 and 4096.
4. ``bench_transform.txt``: ``bench_transform.py`` on 2,000,000 rows against
   the copy bound.
5. ``grid_search.txt``: models per hour of ``GridSearchCV`` over 8 candidates
   x 2 folds with 1, 2, 4 and 8 processes sharing the GPU.

Each step has its own time limit, and a step that fails or runs out of time
is written down and the next one runs.

The GPU machine has PyTorch, scikit-learn, pandas, scipy, safetensors and
matplotlib but no skorch or wfdb and no network. Carry them as wheels, made
on a machine with network access (any OS: both are pure Python)::

    pip download --only-binary=:all: --no-deps skorch wfdb tabulate -d wheels/
    # on the GPU machine, from the repository root:
    pip install --no-index --no-deps wheels/*.whl && pip install --no-deps -e .

``--dry-run`` runs every step on the CPU with tiny sizes (the test suite does,
so the script cannot rot between GPU loans): the tests are collected, not run.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_FILES = ["tests/test_transformer.py", "tests/test_training.py", "tests/test_variance.py",
              "tests/test_groups.py", "tests/test_io.py", "tests/test_errors.py"]

GRID_SEARCH = """
import sys, time
from sklearn.model_selection import GridSearchCV
from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats
n_jobs, n_beats, epochs, device = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
X, _ = make_heartbeats(n_beats, random_state=0)
grid = {"beta": [0.5, 1.0, 2.0, 4.0], "latent_dim": [8, 10]}
search = GridSearchCV(BetaVAETransformer(max_epochs=epochs, device=device, random_state=0), grid, cv=2,
                      n_jobs=n_jobs)
start = time.perf_counter()
search.fit(X)
seconds = time.perf_counter() - start
fits = 8 * 2 + 1
print(f"n_jobs={n_jobs}: {fits} fits of {epochs} epochs on {n_beats} beats in {seconds:.1f} s: "
      f"{fits / seconds * 3600:.0f} models per hour")
"""


def steps(dry_run, device):
    """(name, command, time limit in seconds) of every step."""
    python = sys.executable
    env_code = ("import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', "
                "torch.cuda.is_available()); torch.cuda.is_available() and print(torch.cuda.get_device_name(0), "
                "round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1), 'GiB')")
    fit_size = ["--epochs", "1", "--repeats", "1", "--rows", "2000"] if dry_run else ["--epochs", "5", "--repeats", "3"]
    yield "env", [python, "-c", env_code], 60
    tests = [python, "-m", "pytest", "-q", "-x", *TEST_FILES] + (["--collect-only"] if dry_run else [])
    yield "tests", tests, 120 if dry_run else 240
    for batch in (256, 4096):
        yield f"bench_fit_{batch}", [python, "benchmarks/bench_fit.py", "--device", device, "--batch", str(batch),
                                     *fit_size], 60 if dry_run else 90
    rows = "20000" if dry_run else "2000000"
    yield "bench_transform", [python, "benchmarks/bench_transform.py", "--rows", rows, "--device", device], 60
    n_beats, epochs = ("400", "1") if dry_run else ("4000", "20")
    for n_jobs in ((1, 2) if dry_run else (1, 2, 4, 8)):
        yield f"grid_search_{n_jobs}", [python, "-c", GRID_SEARCH, str(n_jobs), n_beats, epochs, device], \
            60 if dry_run else 75


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_results"))
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU; tests collected only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry_run else "cuda"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks"),
                                                        os.environ.get("PYTHONPATH", "")])}
    summary = [f"# GPU checks ({'dry run on the CPU' if args.dry_run else device})", "",
               "| step | status | seconds | last line |", "| --- | --- | --: | --- |"]
    failed = 0
    for name, command, limit in steps(args.dry_run, device):
        start = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=limit)
            output, status = done.stdout + done.stderr, "ok" if done.returncode == 0 else f"rc {done.returncode}"
        except subprocess.TimeoutExpired as expired:
            output = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
            status = f"timed out after {limit} s"
        seconds = time.perf_counter() - start
        failed += status != "ok"
        (args.out / f"{name}.txt").write_text(f"$ {' '.join(command[:3])} ...\n{output}")
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
        summary.append(f"| {name} | {status} | {seconds:.0f} | {last.strip()[:120].replace('|', '/')} |")
        print(summary[-1], flush=True)
    (args.out / "summary.md").write_text("\n".join(summary) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
