"""Fit time of the convolutional decoder with a fixed variance against the defaults, with named factors.

The recipe for heart-rate edits (``architecture="conv1d", decoder_variance="fixed"``,
``benchmarks/README.md``, *bench_named_factors.py*) against the default MLP with a
learned Student-t scale: the same rows (1,532 ``make_heartbeats`` beats, LUDB's
training size), the same 40 epochs, one torch thread, alternating, best of 2.

    python benchmarks/bench_conv_decoder_cost.py

About 1 minute on 2 CPU cores.
"""

import time
import warnings

from skbvae import BetaVAETransformer
from skbvae.datasets import make_heartbeats

CONFIGURATIONS = {"defaults (mlp)": {}, "conv1d, fixed variance": {"architecture": "conv1d", "decoder_variance": "fixed"}}


def main():
    X, factors = make_heartbeats(1532, random_state=0)
    factors = factors[["heart_rate", "r_amplitude"]]
    times = {name: [] for name in CONFIGURATIONS}
    for _ in range(2):
        for name, params in CONFIGURATIONS.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 40 epochs: the convergence warning is expected
                BetaVAETransformer(latent_dim=10, max_epochs=40, n_jobs=1, random_state=0, **params).fit(
                    X, factors=factors)
            times[name].append(time.perf_counter() - started)
    best = {name: min(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name}: {', '.join(f'{v:.1f}' for v in values)} s (best {best[name]:.1f} s)")
    ratio = best["conv1d, fixed variance"] / best["defaults (mlp)"]
    print(f"conv1d, fixed variance / defaults: {ratio:.1f}x")


if __name__ == "__main__":
    main()
