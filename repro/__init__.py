"""Reference reproduction of "Interpreting Interpretations: Organizing Attribution Methods by Criteria".

Wang, Mardziel, Datta, Fredrikson (CVPR-W 2020). Data flows one way:

    images -> attribution maps -> perturbation curves -> criteria -> results table -> figures, claims

Subpackages: :mod:`repro.data` (image sources), :mod:`repro.attributions` (the eight methods),
:mod:`repro.criteria` (N-Ord, S-Ord, TPN, TPS). Importing :mod:`repro` has no side effects.
"""

__version__ = "0.1.0"
