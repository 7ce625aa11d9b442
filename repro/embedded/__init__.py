"""The embedded default: a small VGG-style CNN trained offline on the logic-shapes data
(:mod:`repro.data.shapes`), shipped in the repository so that the study runs with no download.

* :mod:`repro.embedded.model`: the architecture and :func:`~repro.embedded.model.load_embedded`;
* :mod:`repro.embedded.train`: the deterministic training script behind ``repro train-embedded``;
* :mod:`repro.embedded.sanity`: oracle attributions from object masks and the criteria sanity suite.
"""
