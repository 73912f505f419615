"""fileio.take_rows: values at given row numbers of a Parquet file, reading only the row groups that hold them."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.fileio import take_rows


def test_rows_across_row_groups_in_file_order(tmp_path):
    path = tmp_path / "unit.parquet"
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(10)], "text": [f"text {i}" for i in range(10)]}), path, row_group_size=3)
    assert pq.ParquetFile(path).num_row_groups == 4
    assert take_rows(path, "text", [0, 2, 3, 8, 9]) == ["text 0", "text 2", "text 3", "text 8", "text 9"]
    assert take_rows(path, "id", []) == []
    with pytest.raises(IndexError, match="row 10 is past the file's 10 rows"):
        take_rows(path, "text", [1, 10])


def test_only_the_row_groups_holding_the_rows_are_read(tmp_path, monkeypatch):
    path = tmp_path / "unit.parquet"
    pq.write_table(pa.table({"text": [f"text {i}" for i in range(12)]}), path, row_group_size=3)
    read = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", lambda self, i, **kw: read.append(i) or original(self, i, **kw))
    assert take_rows(path, "text", [4, 5, 10]) == ["text 4", "text 5", "text 10"]
    assert read == [1, 3]
