"""The base of the list models: rows, reset, insert, look-up, header and the per-cell hooks."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt

from app.ui.kit.list_model import ListTableModel

H = Qt.Orientation.Horizontal


@dataclasses.dataclass(frozen=True)
class Fruit:
    name: str
    count: int


class FruitModel(ListTableModel[Fruit]):
    COLUMNS = ("Name", "Count")
    KEY = "name"

    def text(self, row: Fruit, column: int) -> str:
        return row.name if column == 0 else str(row.count)

    def role_data(self, row: Fruit, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return f"{row.count} {row.name}(s)"
        return None


def test_list_model_passes_the_model_tester(qtmodeltester) -> None:  # noqa: ANN001
    model = FruitModel([Fruit("apple", 3), Fruit("pear", 1)])
    qtmodeltester.check(model)
    model.set_rows([Fruit("plum", 7)])
    model.insert_rows(0, [Fruit("fig", 2)])
    qtmodeltester.check(model)
    qtmodeltester.check(FruitModel())


def test_list_model_rows_header_and_hooks(qtbot) -> None:  # noqa: ANN001
    model = FruitModel([Fruit("apple", 3), Fruit("pear", 1)])
    assert (model.rowCount(), model.columnCount()) == (2, 2)
    assert [model.headerData(c, H) for c in range(3)] == ["Name", "Count", None]
    assert model.index(1, 1).data() == "1"
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole) == "1 pear(s)"
    assert model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole) is None
    assert model.index(0, 0).data(Qt.ItemDataRole.UserRole) == Fruit("apple", 3)
    assert model.row_of("pear") == 1 and model.row_of("kiwi") is None
    with qtbot.waitSignal(model.rowsInserted):
        model.insert_rows(1, [Fruit("fig", 2), Fruit("kiwi", 5)])
    assert [f.name for f in model.rows] == ["apple", "fig", "kiwi", "pear"]
    assert model.row_at(2) == Fruit("kiwi", 5)
    with qtbot.waitSignal(model.modelReset):
        model.set_rows([])
    assert model.rowCount() == 0 and model.row_of("pear") is None


def test_list_model_can_show_a_subset_of_its_columns(qtbot) -> None:  # noqa: ANN001
    model = FruitModel([Fruit("apple", 3)], columns=("Name",))
    assert model.columnCount() == 1 and model.headerData(0, H) == "Name"
    assert not model.index(0, 1).isValid()
