"""Warnings that point at the user's line, not at ours or scikit-learn's.

A warning's ``stacklevel`` counts frames, and the frames between a user's
``fit`` call and the line that warns change with the route: scikit-learn's
``_fit_context`` wrapper, a ``Pipeline``, a ``GridSearchCV``, skorch's
callbacks. A fixed count pointed some warnings at scikit-learn's or our own
source; :func:`warn_user` counts the frames of the libraries in between
instead (Python 3.12's ``skip_file_prefixes`` does the same, but 3.10 and
3.11 lack it).
"""

import os
import sys
import warnings

import joblib
import sklearn
import skorch
import torch

# Source folders whose frames are passed over: this package and the
# libraries that call it on the user's behalf.
_LIBRARY_FOLDERS = tuple(os.path.dirname(module.__file__) + os.sep
                         for module in (sys.modules[__package__], sklearn, skorch, torch, joblib))


def warn_user(message, category=UserWarning):
    """``warnings.warn`` at the first frame outside skbvae, scikit-learn, skorch, torch and joblib."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_FOLDERS):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level + 1 if frame is not None else 2)
