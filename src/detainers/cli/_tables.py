"""Rich tables that never cut a cell: an id, a pack version or a path too long for its column folds onto the next
line instead of ending in an ellipsis (``us/ca/los-angele…`` named nothing a reader could look up)."""

from __future__ import annotations

from typing import Any

from rich import table as _rich

__all__ = ["Table"]


class Table(_rich.Table):
    """:class:`rich.table.Table` whose columns fold (``overflow="fold"``) unless told otherwise."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)
