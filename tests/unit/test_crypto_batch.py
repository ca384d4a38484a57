"""The batch paths of encryption at rest give what the one-value paths give: same blind indexes, values that open."""

from __future__ import annotations

import pytest

from casework.persistence import crypto
from casework.persistence.tables import Base  # noqa: F401 - maps the tables, so their sealed columns are known


def test_seal_rows_blind_indexes_and_sealed_values_match_the_single_value_paths() -> None:
    ring = crypto.KeyRing(crypto.Key.generate())
    columns = ["name", "id_number", "father_phone", "mother_phone", "guardian_phone", "sex"]
    rows = [
        ["测试甲", "52032120160308123x", "138-1234 5678", None, "", "male"],
        ["测试乙", None, "13912345678", "１３９", " 13700000000 ", "female"],
    ]
    out_columns, out = crypto.seal_rows(ring, "child", columns, [41, 42], rows)
    assert out_columns[0] == "id" and out_columns[1:7] == columns
    for row_id, row, sealed in zip([41, 42], rows, out, strict=True):
        assert sealed[0] == row_id
        assert sealed[6] == row[5]  # not a sealed column: as given
        opened = crypto.open_value(ring, "child", "name", row_id, sealed[1])
        assert opened == row[0]
        if row[1] is not None:
            assert crypto.open_value(ring, "child", "id_number", row_id, sealed[2]) == row[1]
        bidx = dict(zip(out_columns[7:], sealed[7:], strict=True))
        for column in crypto.BLIND_INDEXED["child"]:
            value = row[columns.index(column)]
            assert bidx[crypto.bidx_column(column)] == ring.blind_index("child", column, value)
    assert out[0][7] is not None and out[0][9] is None and out[0][10] is None  # empty numbers: no index


def test_opener_opens_what_open_opens_and_refuses_what_it_refuses() -> None:
    ring = crypto.KeyRing(crypto.Key.generate())
    blob = ring.seal("child", "name", 7, "测试丙".encode())
    open_name = ring.opener("child", "name")
    assert open_name(7, blob) == ring.open("child", "name", 7, blob) == "测试丙".encode()
    assert open_name(7, memoryview(blob)) == "测试丙".encode()
    with pytest.raises(crypto.SealBroken):
        open_name(8, blob)  # bound to row 7
    with pytest.raises(crypto.SealBroken):
        ring.opener("child", "home_address")(7, blob)  # bound to the name column
    other = crypto.KeyRing(crypto.Key.generate())
    with pytest.raises(crypto.SealBroken):
        other.opener("child", "name")(7, blob)  # another key
