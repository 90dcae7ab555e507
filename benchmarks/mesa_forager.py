"""Minimal forager ecology written as an ordinary Mesa 3 model.

This is the *peer* implementation used to compare throughput against the
evosim numba engine. It is deliberately idiomatic Mesa (``mesa.Model``,
``CellAgent`` on an ``OrthogonalMooreGrid`` torus, a ``PropertyLayer`` for the
per-cell food, random activation via ``self.agents.shuffle_do("step")``) and is
not hand-vectorised beyond the whole-layer food regrowth, which is what a Mesa
user would write for a ``PropertyLayer``.

Rules (identical in both engines):
    * Every cell holds food ``F`` (initially ``K``). Each tick the food first
      regrows: ``F += r * max(F, floor) * (1 - F / K)``, clipped to ``[0, K]``.
    * Then each agent, in random order: moves to a uniformly random cell of its
      Moore neighbourhood including its own cell (9 choices, torus); eats
      ``min(F, intake)``; pays ``metabolism``; splits if ``energy >= T`` (child
      with half the energy on the same cell, unless the population is at the
      cap); dies if ``energy <= 0``.

Run ``python benchmarks/mesa_forager.py`` to print agent-steps per second.
"""

from __future__ import annotations

import argparse
import time

import mesa
import numpy as np
from mesa.discrete_space import CellAgent, OrthogonalMooreGrid


class Forager(CellAgent):
    """A forager that wanders, eats the food of its cell, splits and starves.

    Attributes:
        energy: Current energy reserve.
    """

    def __init__(self, model: ForagerModel, energy: float, cell) -> None:
        """Create a forager and place it on ``cell``.

        Args:
            model: The owning model.
            energy: Initial energy.
            cell: Grid cell the agent starts on.
        """
        super().__init__(model)
        self.energy = energy
        self.cell = cell

    def step(self) -> None:
        """Move, eat, pay metabolism, then reproduce or die."""
        model = self.model
        # Move: uniform over the 8 Moore neighbours plus the current cell.
        self.cell = self.cell.get_neighborhood(include_center=True).select_random_cell()

        # Eat from the cell's food (PropertyLayer exposed as ``cell.food``).
        cell = self.cell
        eaten = min(float(cell.food), model.intake)
        cell.food -= eaten
        self.energy += eaten - model.metabolism

        if self.energy >= model.split_threshold:
            if len(model.agents) < model.cap:
                self.energy /= 2.0
                Forager(model, self.energy, cell)
        elif self.energy <= 0.0:
            self.remove()


class ForagerModel(mesa.Model):
    """Minimal forager ecology on a toroidal Moore grid.

    Attributes:
        grid: The ``OrthogonalMooreGrid`` with a ``food`` property layer.
        cap: Population cap above which no births happen.
    """

    def __init__(
        self,
        n_agents: int = 2_000,
        width: int = 50,
        height: int = 50,
        r: float = 0.2,
        capacity: float = 10.0,
        floor: float = 0.5,
        intake: float = 2.0,
        metabolism: float = 0.5,
        split_threshold: float = 12.0,
        initial_energy: float = 5.0,
        cap: int | None = None,
        seed: int | None = None,
    ) -> None:
        """Build the grid, the food layer and the initial population.

        Args:
            n_agents: Initial number of foragers.
            width: Grid width.
            height: Grid height.
            r: Logistic regrowth rate of the food.
            capacity: Food carrying capacity ``K`` per cell.
            floor: Minimum effective food used in the regrowth term.
            intake: Maximum food eaten per agent per tick.
            metabolism: Energy paid per agent per tick.
            split_threshold: Energy ``T`` at which an agent splits.
            initial_energy: Energy of the initial agents.
            cap: Population cap; defaults to ``2 * n_agents``.
            seed: Seed for the model's random number generators.
        """
        super().__init__(seed=seed)
        self.r = r
        self.capacity = capacity
        self.floor = floor
        self.intake = intake
        self.metabolism = metabolism
        self.split_threshold = split_threshold
        self.cap = 2 * n_agents if cap is None else cap

        self.grid = OrthogonalMooreGrid((width, height), torus=True, random=self.random)
        self.grid.create_property_layer("food", default_value=capacity, dtype=float)

        Forager.create_agents(
            self,
            n_agents,
            energy=initial_energy,
            cell=self.random.choices(self.grid.all_cells.cells, k=n_agents),
        )

    def regrow_food(self) -> None:
        """Logistic regrowth of the whole food layer (vectorised numpy update)."""
        food = self.grid.food.data
        growth = self.r * np.maximum(food, self.floor) * (1.0 - food / self.capacity)
        self.grid.food.data = np.clip(food + growth, 0.0, self.capacity)

    def step(self) -> None:
        """Advance one tick: regrow food, then activate agents in random order."""
        self.regrow_food()
        self.agents.shuffle_do("step")


def run_mesa(n_agents: int, ticks: int, width: int, height: int, seed: int = 0) -> dict:
    """Run the Mesa forager ecology and time it.

    Args:
        n_agents: Initial number of agents (cap is ``2 * n_agents``).
        ticks: Number of ticks to run.
        width: Grid width.
        height: Grid height.
        seed: Random seed.

    Returns:
        ``{'agent_steps': int, 'seconds': float, 'final_population': int}`` where
        ``agent_steps`` is the sum over ticks of agents alive at the start of the
        tick and ``seconds`` is the wall time of the ticks only (model
        construction excluded).
    """
    model = ForagerModel(n_agents=n_agents, width=width, height=height, seed=seed)
    agent_steps = 0
    start = time.perf_counter()
    for _ in range(ticks):
        agent_steps += len(model.agents)
        model.step()
    seconds = time.perf_counter() - start
    return {
        "agent_steps": agent_steps,
        "seconds": seconds,
        "final_population": len(model.agents),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--height", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    res = run_mesa(args.agents, args.ticks, args.width, args.height, args.seed)
    print(
        f"Mesa {mesa.__version__}: {args.agents} agents, {args.width}x{args.height}, "
        f"{args.ticks} ticks: {res['agent_steps']} agent-steps in {res['seconds']:.3f} s "
        f"= {res['agent_steps'] / res['seconds']:,.0f} agent-steps/s "
        f"(final population {res['final_population']})"
    )
