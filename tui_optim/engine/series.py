"""The series vocabulary: every name a stepper can emit per record, and the words a pane
shows for it (a title in words, a short axis label with the formula).

Numba-free, so the scenario layer checks names in panes and claims against the same list the
steppers emit, and the panes title themselves from it. Declared once, here.
"""

from __future__ import annotations

import re

SURFACE = ("loss", "grad_norm", "lr", "param_norm", "step_size")
SURFACE_EXTRA = ("dist", "avg.loss", "proj.0", "proj.1", "sparsity", "hess_min_eig")
# network: per run, then per layer (layer.<i>.<name>), in kernel column order
NETWORK = ("loss", "grad_norm", "lr", "param_norm", "val_loss", "accuracy", "sharpness",
           "train_loss", "epoch")
LAYER = ("grad_norm", "update_ratio", "act_mean", "act_std", "preact_std", "dead", "gradcheck",
         "spread")
CHAIN_DIAG = ("loss", "y", "s", "grad.a", "grad.b", "closed.a", "closed.b", "grad_err",
              "grad_norm", "sigma_prime", "depth")
CHAIN_PRODUCT = ("loss", "grad_norm", "lr", "param_norm", "output", "predicted_change",
                 "actual_change", "taylor_gap")

# name -> (title in words, axis label)
WORDS: dict[str, tuple[str, str]] = {
    "loss": ("loss", "loss"),
    "grad_norm": ("gradient norm ‖g‖", "‖g‖"),
    "lr": ("learning rate ε", "ε"),
    "param_norm": ("parameter norm ‖θ‖", "‖θ‖"),
    "step_size": ("step length ‖θₜ₊₁ − θₜ‖", "‖Δθ‖"),
    "dist": ("distance to the minimum ‖θ − θ*‖", "‖θ − θ*‖"),
    "avg.loss": ("loss at the averaged iterate θ̄", "loss(θ̄)"),
    "proj.0": ("first principal direction", "proj 0"),
    "proj.1": ("second principal direction", "proj 1"),
    "sparsity": ("sparsity of H (share of zeros)", "zeros"),
    "hess_min_eig": ("smallest Hessian eigenvalue", "λmin(H)"),
    "val_loss": ("validation loss", "loss"),
    "accuracy": ("accuracy", "accuracy"),
    "sharpness": ("sharpness: top Hessian eigenvalue", "λmax(H)"),
    "train_loss": ("training loss (eval mode)", "loss"),
    "epoch": ("epochs", "epoch"),
    "y": ("output y = σ(s)", "y"),
    "s": ("pre-activation s = aⁿx₁ + bⁿx₂", "s"),
    "grad.a": ("∂y/∂a (backprop)", "∂y/∂a"),
    "grad.b": ("∂y/∂b (backprop)", "∂y/∂b"),
    "closed.a": ("∂y/∂a (closed form)", "∂y/∂a"),
    "closed.b": ("∂y/∂b (closed form)", "∂y/∂b"),
    "grad_err": ("backprop against closed form (relative error)", "rel. error"),
    "sigma_prime": ("σ'(s)", "σ'"),
    "depth": ("depth n", "n"),
    "output": ("output ŷ", "ŷ"),
    "predicted_change": ("predicted change ε gᵀg", "Δŷ"),
    "actual_change": ("actual change", "Δŷ"),
    "taylor_gap": ("first-order prediction error", "gap"),
}
LAYER_WORDS: dict[str, tuple[str, str]] = {
    "grad_norm": ("gradient norm", "‖∂L/∂W‖"),
    "update_ratio": ("update/weight ratio", "‖ΔW‖/‖W‖"),
    "act_mean": ("activation mean", "mean"),
    "act_std": ("activation std", "std"),
    "preact_std": ("pre-activation std", "std"),
    "dead": ("dead units (share)", "dead"),
    "gradcheck": ("gradient check (relative error)", "rel. error"),
    "spread": ("spread across units", "std"),
}
MAX_LAYERS = 64          # per-layer series of at most this many layers (the chain's deepest)
HIGHER_IS_BETTER = frozenset({"accuracy"})   # a run's best of these is its largest value
_LAYER = re.compile(r"layer\.(\d+)\.(\w+)$")


def higher_is_better(name: str) -> bool:
    """Whether a series' best is its largest value (accuracy, layer.3.accuracy, …)."""
    return name.split(".")[-1] in HIGHER_IS_BETTER
_COORD = re.compile(r"(avg\.)?x\.(\d+)$")


def words(name: str) -> tuple[str, str]:
    """(title, axis label) for a series name; the name itself when it has no words."""
    if name in WORDS:
        return WORDS[name]
    m = _LAYER.match(name)
    if m and m.group(2) in LAYER_WORDS:
        title, axis = LAYER_WORDS[m.group(2)]
        return f"{title}, layer {m.group(1)}", axis
    m = _COORD.match(name)
    if m:
        i = m.group(2)
        return (f"θ{i} of the averaged iterate" if m.group(1) else f"coordinate θ{i}"), f"θ{i}"
    return name, name


def surface_series(dim: int | None, *, averaged: bool = False) -> list[str]:
    """Every name a surface run may emit (x.i up to 8 coordinates)."""
    names = list(SURFACE) + list(SURFACE_EXTRA)
    d = min(dim or 2, 8)
    names += [f"x.{i}" for i in range(d)]
    if averaged:
        names += [f"avg.x.{i}" for i in range(d)]
    return names


def network_series(n_layers: int) -> list[str]:
    return list(NETWORK) + [f"layer.{l}.{s}" for l in range(n_layers) for s in LAYER]


def chain_series(n_layers: int) -> list[str]:
    names = list(dict.fromkeys(CHAIN_DIAG + CHAIN_PRODUCT))
    return names + [f"layer.{l}.{s}" for l in range(n_layers) for s in ("grad_norm", "update_ratio")]
