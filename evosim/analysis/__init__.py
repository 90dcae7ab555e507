"""Analysis of one run folder in pandas and matplotlib.

Layer: above :mod:`evosim.io` (it reads run folders with
:func:`evosim.io.logs.load_run`), below :mod:`evosim.experiments` and
:mod:`evosim.cli`. Nothing here loads numba or pygame.

Modules:
    phylogeny: the species phylogeny as dendropy trees (through
        alifedata-phyloinformatics-convert) and Newick.
    groups: which species a plot shows by name, and the rest grouped per
        founding lineage.
    runplots: the PNGs of ``evosim plot RUN`` (population, genes, brain and
        skill, milestones).
    treeplot: the phylogeny drawn against time.
"""
