"""Training time: skbvae against pythae's DisentangledBetaVAE trainer on the same work.

pythae (https://github.com/clementchadebec/benchmark_VAE) is the main VAE
library peer. Both train the same MLP (187 → 256 → 128 → 2×10, mirror decoder)
with the capacity objective (γ 4, C 25), Adam 5e-4, batch 256, for the same
epochs on the same 14,552 × 187 standardized rows. pythae is installed only for
this benchmark (``pip install pythae``); it is not a dependency of skbvae.

    python benchmarks/bench_pythae.py [--epochs 5] [--device cpu|cuda]
"""

import argparse
import logging
import os
import tempfile

# pythae draws a progress bar per epoch; tqdm reads this when first imported.
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from skbvae import BetaVAETransformer  # noqa: E402
from skbvae.datasets import make_heartbeats  # noqa: E402

from _timing import timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

N_ROWS, N_FEATURES, LATENT, BATCH, LR, CAPACITY, GAMMA = 14_552, 187, 10, 256, 5e-4, 25.0, 4.0


def pythae_fit(X, epochs, device):
    from pythae.models import DisentangledBetaVAE, DisentangledBetaVAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(N_FEATURES, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                     nn.Linear(128, 2 * LATENT))

        def forward(self, x):
            mu, log_var = self.net(x).chunk(2, dim=1)
            return ModelOutput(embedding=mu, log_covariance=log_var)

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(LATENT, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(),
                                     nn.Linear(256, N_FEATURES))

        def forward(self, z):
            return ModelOutput(reconstruction=self.net(z))

    config = DisentangledBetaVAEConfig(input_dim=(N_FEATURES,), latent_dim=LATENT, beta=GAMMA, C=CAPACITY,
                                       warmup_epoch=epochs, reconstruction_loss="mse")
    model = DisentangledBetaVAE(config, encoder=Encoder(), decoder=Decoder())
    with tempfile.TemporaryDirectory() as out:
        training = BaseTrainerConfig(output_dir=out, per_device_train_batch_size=BATCH, num_epochs=epochs,
                                     learning_rate=LR, no_cuda=not device.startswith("cuda"), seed=0)
        TrainingPipeline(training_config=training, model=model)(train_data=X, eval_data=None)


def skbvae_fit(X, epochs, device):
    BetaVAETransformer(latent_dim=LATENT, batch_size=BATCH, lr=LR, capacity=CAPACITY, beta=GAMMA,
                       max_epochs=epochs, device=device, decoder_variance="fixed",  # pythae's decoder
                       n_jobs=-1, random_state=0).fit(X)  # pythae's threads: torch's



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # pythae logs every epoch
    X, _ = make_heartbeats(N_ROWS, random_state=0)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    timed(skbvae_fit, X[:2000], 1, args.device, device=args.device)  # warm-up
    pythae_seconds = timed(pythae_fit, X, args.epochs, args.device, device=args.device)
    skbvae_seconds = timed(skbvae_fit, X, args.epochs, args.device, device=args.device)
    rows = N_ROWS * args.epochs
    print(f"device={args.device} threads={torch.get_num_threads()} rows={N_ROWS} epochs={args.epochs} batch={BATCH}")
    print(f"pythae DisentangledBetaVAE: {pythae_seconds:.2f} s, {rows / pythae_seconds:,.0f} samples/s")
    print(f"skbvae BetaVAETransformer:  {skbvae_seconds:.2f} s, {rows / skbvae_seconds:,.0f} samples/s")
    print(f"speed-up skbvae over pythae: {pythae_seconds / skbvae_seconds:.2f}x (target >= 10x, set for the GPU)")


if __name__ == "__main__":
    main()
