"""The map layers (how agents and background are coloured), without importing pygame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evosim.defaults import GENES


@dataclass(frozen=True)
class Layer:
    """A way of colouring agents (and the background).

    Attributes:
        key: the number key that selects it.
        name: short name (``--layer`` value and on-screen label).
        title: legend title (the first words of the legend line under the layer name).
    """

    key: str
    name: str
    title: str


#: The layers, in key order (keys 1-9 then 0).
LAYERS: tuple[Layer, ...] = (
    Layer("1", "species", "species (colours: see the list)"),
    Layer("2", "brain", "brain gene"),
    Layer("3", "skill", "skill z"),
    Layer("4", "dexterity", "dexterity gene"),
    Layer("5", "food", "food / capacity (agents white)"),
    Layer("6", "milestone", "highest milestone held"),
    Layer("7", "sociality", "sociality gene"),
    Layer("8", "childhood", "childhood gene"),
    Layer("9", "lifespan", "lifespan gene"),
    Layer("0", "energy", "energy"),
)
LAYER_NAMES: tuple[str, ...] = tuple(layer.name for layer in LAYERS)
#: Layers that colour agents by one gene.
GENE_LAYERS = frozenset(layer.name for layer in LAYERS if layer.name in GENES)


def layer_by_name(name: str) -> Layer:
    """The layer called ``name``.

    Raises:
        ValueError: no such layer.
    """
    for layer in LAYERS:
        if layer.name == name:
            return layer
    raise ValueError(f"unknown layer '{name}'; layers: {', '.join(LAYER_NAMES)}")


@dataclass
class Legend:
    """What the colours of a layer mean, as drawn under the layer name in the panel.

    Attributes:
        text: one line (title, notes such as "no skill data").
        lut: a 256-entry colour table drawn as a gradient bar from ``lo`` to ``hi``.
        lo, hi: the values at the ends of the bar.
        items: discrete (colour, label) pairs drawn as swatches.
    """

    text: str
    lut: np.ndarray | None = None
    lo: float = 0.0
    hi: float = 1.0
    items: list[tuple[tuple[int, int, int], str]] = field(default_factory=list)
