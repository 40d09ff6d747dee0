"""Sphinx configuration of the skbvae documentation (builds offline)."""

import skbvae

project = "skbvae"
author = "skbvae developers"
copyright = "2026, skbvae developers"
release = skbvae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references into scikit-learn/torch would need the network (intersphinx).
numpydoc_xref_param_type = False
nitpicky = False
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
