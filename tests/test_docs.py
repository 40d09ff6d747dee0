"""The documentation builds offline without warnings."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_sphinx_build_has_no_warnings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "-d", str(tmp_path / "doctrees"),
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    generated = tmp_path / "html" / "generated"
    assert (generated / "skbvae.BetaVAETransformer.html").is_file()
    # Every public method the estimator defines has its own page with its docstring.
    from skbvae import BetaVAETransformer

    own = [name for name, value in vars(BetaVAETransformer).items()
           if callable(value) and not name.startswith("_")]
    assert {"fit", "transform", "traverse", "sample", "score_samples"} <= set(own)
    for name in own:
        page = generated / f"skbvae.BetaVAETransformer.{name}.html"
        assert page.is_file(), name
        assert "Parameters" in page.read_text(), name
    api = (tmp_path / "html" / "api.html").read_text()
    for constant in ("datasets.HEARTBEAT_FACTORS", "datasets.PRICE_FACTORS", "datasets.PRICE_REPRESENTATIONS",
                     "datasets.LEAD_II_NAMES", "datasets.BEAT_SYMBOLS", "datasets.ARTEFACTS",
                     "ecg.FS_RANGE", "ecg.MIN_QUALITY", "ecg.BEAT_FEATURES", "metrics.FOLLOWS_THRESHOLD", "metrics.ACTIVE_KL_THRESHOLD",
                     "io.FORMAT_VERSION"):
        assert f'id="skbvae.{constant}"' in api, constant
    assert (generated / "skbvae.io.load.html").is_file()
    # A gallery page per example, titled by its docstring, showing its committed figures.
    examples = sorted((DOCS.parent / "examples").glob("*.py"))
    assert len(examples) >= 7
    for example in examples:
        page = tmp_path / "html" / "auto_examples" / f"{example.stem}.html"
        assert page.is_file(), example.name
        html = page.read_text()
        # Command lines are literal: docutils turns "--epochs" into an en dash elsewhere.
        assert "[\u2013" not in html and "\u2013out" not in html, example.name
        for figure in re.findall(r"\.\. image:: /_static/(\S+)", example.read_text()):
            assert f'src="../_images/{figure}"' in html, (example.name, figure)
            assert (tmp_path / "html" / "_images" / figure).is_file()
