"""Datasets: ECG heartbeats from WFDB records, price windows, and synthetic signals."""

from ._synthetic import HEARTBEAT_FACTORS, PRICE_FACTORS, make_heartbeats, make_price_windows

__all__ = [
    "HEARTBEAT_FACTORS",
    "PRICE_FACTORS",
    "make_heartbeats",
    "make_price_windows",
]
