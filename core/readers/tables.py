"""A table as lines of text: each row after the header reads "Header: cell; Header: cell"."""

from __future__ import annotations

from collections.abc import Sequence


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """One line per row. With a header row and more rows, each cell is named by its column's
    header, so "Drug | Class" over "Aspirin | NSAID" reads "Drug: Aspirin; Class: NSAID"."""
    cleaned = [[" ".join(cell.split()) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if len(cleaned) < 2:
        return ["; ".join(cell for cell in _unique(row) if cell) for row in cleaned]
    header, *body = cleaned
    named = all(header) and len(_unique(header)) == len(header)
    lines = []
    for row in body:
        if named and len(row) == len(header):
            # Two columns may hold the same word ("Drug Class: Bacitracin; Specific Drugs:
            # Bacitracin"); named, each keeps its meaning.
            parts = [f"{name}: {cell}" for name, cell in zip(header, row, strict=True) if cell]
        else:
            parts = [cell for cell in _unique(row) if cell]
        lines.append("; ".join(parts))
    return lines


def _unique(row: list[str]) -> list[str]:
    """A merged cell repeats its text in every cell it spans; it is read once."""
    out: list[str] = []
    for cell in row:
        if not out or cell != out[-1] or not cell:
            out.append(cell)
    return out
