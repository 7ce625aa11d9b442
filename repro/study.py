"""The state of one run: its settings, model, image source, chunk plan and method instances (:class:`Study`).

Below both :mod:`repro.pipeline` (which opens and runs a study) and :mod:`repro.stages` (which computes a chunk of
it), so that neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from repro.config import StudyConfig
from repro.errors import ReproError
from repro.results import count_chunks, verify_chunk


@dataclass
class Study:
    """A run in directory ``out``: its config, model, image source and chunk plan."""

    cfg: StudyConfig
    out: Path
    model: object = field(repr=False)
    source: object = field(repr=False)
    settings: str = ""
    """Digest of the run's result-determining settings (:func:`repro.config.settings_digest`)."""
    weights_id: str = ""
    """The identity of the model's weights (:func:`repro.models.weights.weights_id`), part of every map's cache
    key."""
    methods: dict = field(default_factory=dict, repr=False)
    """The method instances of the run (:func:`repro.stages.method_for`), created once each."""
    progress: bool = False
    """Show the per-chunk bars (maps per method, criteria forwards) below the chunk bar."""

    def close(self) -> None:
        """Stop worker processes of graph-mode methods."""
        for m in self.methods.values():
            close = getattr(m, "close", None)
            if close is not None:
                close()
        self.methods.clear()

    @property
    def num_chunks(self) -> int:
        return count_chunks(len(self.source.ids), self.cfg.chunk_size)

    def my_chunks(self) -> list[int]:
        """The chunks this shard computes: every N-th, starting at the shard index."""
        i, n = self.cfg.shard
        return [c for c in range(self.num_chunks) if c % n == i]

    def chunk_indices(self, c: int) -> list[int]:
        """Positions in the study's image list of the images of chunk ``c``."""
        start = c * self.cfg.chunk_size
        return list(range(start, min(start + self.cfg.chunk_size, len(self.source.ids))))

    def verify(self, c: int) -> str:
        """``""`` when chunk ``c`` is done and sound, else what is wrong (``"missing"`` if it was never written)."""
        ids = [self.source.ids[i] for i in self.chunk_indices(c)]
        return verify_chunk(self.out, c, self.settings, self.cfg.row_keys(), ids)[1]

    def check_image_ids(self, ids: list[str]) -> None:
        """Raise unless ``ids`` (all chunks' images in order) are the study's image list."""
        if ids != list(self.source.ids):
            raise ReproError(f"{self.out}: the chunks' images are not this study's {len(self.source.ids)} images")
