"""Analysis of one run folder in pandas and matplotlib.

Layer: above :mod:`evosim.io` (it reads run folders with
:func:`evosim.io.logs.load_run`), below :mod:`evosim.experiments` and
:mod:`evosim.cli`. Nothing here loads numba or pygame.

Modules:
    outcomes: a run's outcomes -- clades, first detections, and the rule naming
        what held each intelligent species that never became technological
        (used by ``evosim report`` and the end-of-run story alike).
    phylogeny: the species phylogeny as dendropy trees (through
        alifedata-phyloinformatics-convert) and Newick.
    groups: which species a plot shows by name, and the rest grouped per
        founding lineage.
    runplots: the PNGs of ``evosim plot RUN`` (population, genes, brain and
        skill, milestones).
    treeplot: the phylogeny drawn against time.
"""
