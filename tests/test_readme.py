"""The README's commands and quick start stay true."""

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
USER_GUIDE = (ROOT / "docs" / "user_guide.rst").read_text()


def _rst_python_blocks(text):
    """The ``.. code-block:: python`` blocks of a reST text, dedented."""
    import textwrap

    blocks = re.findall(r"\.\. code-block:: python\n\n((?:(?: {4}.*)?\n)+)", text)
    return [textwrap.dedent(block) for block in blocks]


def _bash_blocks():
    return re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)


def test_ci_runs_the_readme_test_command():
    test_command = next(block for block in _bash_blocks() if "pytest" in block)
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command.strip() in [line.strip() for line in ci_lines]


def test_readme_main_command_runs_an_existing_example():
    main_command = next(block for block in _bash_blocks() if "examples/" in block)
    script = re.search(r"(examples/\S+\.py)", main_command).group(1)
    assert (ROOT / script).is_file()


def test_quick_start_runs(monkeypatch):
    pytest.importorskip("matplotlib")
    code = re.search(r"```python\n(.*?)\n```", README, flags=re.S).group(1)
    code = code.replace("make_heartbeats(2000", "make_heartbeats(300").replace("max_epochs=20", "max_epochs=2")
    code = code.replace("BetaVAETransformer(latent_dim=10, random_state=0)",
                        "BetaVAETransformer(latent_dim=10, max_epochs=40, random_state=0)")
    namespace = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # as `python -W default` shows them
        exec(compile(code, "README.md", "exec"), namespace)
    assert [str(w.message) for w in caught] == []
    assert namespace["T"].shape == (3, 2, 7, 187)
    assert namespace["Z"].shape == (300, namespace["vae"].n_components_)
    assert set(namespace["search"].best_params_) == {"betavaetransformer__beta", "betavaetransformer__capacity"}


def test_groups_example_runs():
    code = next(block for block in _rst_python_blocks(USER_GUIDE) if "groups=records" in block)
    code = code.replace("make_heartbeats(6000, n_records=200", "make_heartbeats(240, n_records=12")
    code = code.replace("BetaVAETransformer(random_state=0)", "BetaVAETransformer(max_epochs=2, random_state=0)")
    import sklearn

    namespace = {}
    try:
        exec(compile(code, "user_guide.rst", "exec"), namespace)
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    assert namespace["Z_new"].shape == (30, namespace["vae"].n_components_)
    assert namespace["search"].best_params_["beta"] in (0.5, 1.0)


def test_ci_also_runs_the_suite_on_generic_kernels_and_one_thread():
    # A test of learned quality must hold on any CPU and thread count (README's test command on an
    # AVX-512 machine once failed what the developers' machines passed).
    ci = (ROOT / ".ci" / "run").read_text()
    assert "ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 .venv/bin/python -m pytest" in ci


def test_readme_commands_use_the_virtual_environments_tools():
    # After the two commands, bare `pip` and `sphinx-build` are not on PATH.
    for match in re.finditer(r"(\S*)(pip install|sphinx-build)", README):
        assert match.group(1).endswith(".venv/bin/"), README[max(0, match.start() - 60):match.end() + 20]


def test_the_user_guide_names_no_readme_section_that_does_not_exist():
    sections = set(re.findall(r"^#+ (.+)$", README, flags=re.M))
    for named in re.findall(r"README's \*([^*]+)\*", USER_GUIDE):
        assert named in sections, named


def test_a_data_folder_without_ptb_skips_the_ptb_tests(tmp_path):
    # SKBVAE_TEST_WFDB set to a folder holding MIT-BIH 100 but not PTB's s0010_re
    # once made two tests fail instead of skipping.
    import os
    import subprocess
    import sys

    import wfdb

    from skbvae.datasets import make_ecg

    ecg, _ = make_ecg(10.0, fs=360, random_state=0)
    wfdb.wrsamp("100", fs=360, units=["mV"], sig_name=["MLII"], p_signal=ecg[:, None], fmt=["212"],
                adc_gain=[200.0], baseline=[0], write_dir=str(tmp_path))
    tests = ["tests/test_datasets_wfdb.py::test_real_ptb_record_s0010_re",
             "tests/test_channels.py::test_three_lead_fit_on_ptb_s0010_re"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *tests],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "SKBVAE_TEST_WFDB": str(tmp_path)})
    assert result.returncode == 0 and "2 skipped" in result.stdout, result.stdout[-2000:]
    assert f"{tmp_path} lacks s0010_re.hea, s0010_re.dat (set SKBVAE_TEST_WFDB" in result.stdout


def test_the_package_itself_raises_no_deprecation_warning():
    # The suite printed 352 warnings; none may come from skbvae's own use of torch, pandas,
    # scikit-learn or wfdb. Every deprecation is an error here, in a fresh process.
    import subprocess
    import sys

    code = (
        "import os, tempfile\n"
        "from skbvae import BetaVAETransformer, io\n"
        "from skbvae.datasets import make_ecg, make_heartbeats\n"
        "from skbvae.ecg import cut_heartbeats\n"
        "X, _ = make_heartbeats(300, random_state=0)\n"
        "vae = BetaVAETransformer(latent_dim=3, max_epochs=2, random_state=0).fit(X)\n"
        "vae.transform(X); vae.traverse(X[:1]); vae.sample(3); vae.score(X)\n"
        "io.load(io.dump(vae, os.path.join(tempfile.mkdtemp(), 'm.skbvae')))\n"
        "ecg, _ = make_ecg(20.0, fs=250, random_state=0)\n"
        "cut_heartbeats(ecg, 250, features=True)\n"
    )
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-W", "error::FutureWarning",
                             "-W", "error::PendingDeprecationWarning", "-c", code],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
