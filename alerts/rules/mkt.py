"""Mean kinetic temperature (USP <1160>): the single temperature that would
degrade a product as much as the varying temperatures it actually saw.

    MKT = (ΔH/R) / -ln( mean( exp(-ΔH / (R * T)) ) )      T in kelvin

with ΔH = 83.144 kJ/mol and R = 8.3144 J/(mol·K), so ΔH/R = 10 000 K.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

ACTIVATION_ENERGY_J_PER_MOL = 83_144.0
GAS_CONSTANT_J_PER_MOL_K = 8.3144
ACTIVATION_OVER_R_K = ACTIVATION_ENERGY_J_PER_MOL / GAS_CONSTANT_J_PER_MOL_K  # 10 000 K
ZERO_CELSIUS_K = 273.15


def arrhenius_weight(celsius: float) -> float:
    """exp(-ΔH/(R*T)) for a temperature in °C: what MKT averages."""
    return math.exp(-ACTIVATION_OVER_R_K / (celsius + ZERO_CELSIUS_K))


def mkt_from_weights(total_weight: float, count: int) -> float | None:
    """MKT in °C from the sum of `count` Arrhenius weights, None without data."""
    if count <= 0 or total_weight <= 0.0:
        return None
    return ACTIVATION_OVER_R_K / -math.log(total_weight / count) - ZERO_CELSIUS_K


def mean_kinetic_temperature(temperatures_c: Iterable[float]) -> float | None:
    """MKT in °C of equally spaced temperatures in °C; None when there are none."""
    total, count = 0.0, 0
    for t in temperatures_c:
        total += arrhenius_weight(t)
        count += 1
    return mkt_from_weights(total, count)
