"""Benchmarks of the criteria engine (``make bench``): efficiency against bare forwards, the peer libraries
side by side, and scaling. Never imported by the ``repro`` package; the numbers go to ``benchmarks/RESULTS.md``.

* :mod:`benchmarks.harness`: timing, forward counting, machine description, linear fits, markdown tables;
* :mod:`benchmarks.inputs`: the sizes of every section, the embedded model, images, maps and ordered scores;
* :mod:`benchmarks.efficiency`: engine time / time of the same number of bare batched forwards (report section 1);
* :mod:`benchmarks.peers`: Xplique 1.5.2 Deletion/Insertion and Quantus 0.6.0 RegionPerturbation adapters and the
  curve comparison against :func:`repro.criteria.evaluate` (section 2);
* :mod:`benchmarks.scaling`: time per image against image count and step count, memory, the paper projection
  (sections 3 and 4);
* ``benchmarks/run.py``: runs the sections in order and writes the markdown report.
"""
