#!/usr/bin/env python3
"""How fast an Excel workbook of customers is read: fastexcel (what the build uses) vs openpyxl.

    .venv/bin/python bench/excel.py [ROWS]

Writes a workbook of ROWS customers (default 100,000) from `audience sample` data with
XlsxWriter into a temporary folder, then reads it three times with each reader, every cell as
text, and prints the median times and their ratio. openpyxl (`pip install openpyxl`) is the
reader most Python code uses; it is not a dependency of the tool.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import xlsxwriter

from audiencecli.sample import write_sample


def timed(read) -> float:
    started = time.perf_counter()
    read()
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    rows = int(argv[0]) if argv else 100_000
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_sample(folder, rows, 1, "csv")
        customers = pl.read_csv(folder / "customers.csv", infer_schema=False)
        book_path = folder / "customers.xlsx"
        book = xlsxwriter.Workbook(str(book_path), {"constant_memory": True})
        sheet = book.add_worksheet("Customers")
        sheet.write_row(0, 0, customers.columns)
        for r, row in enumerate(customers.iter_rows(), start=1):
            sheet.write_row(r, 0, ["" if v is None else v for v in row])
        book.close()

        import fastexcel
        import openpyxl

        def with_fastexcel():
            fastexcel.read_excel(book_path).load_sheet(0, dtypes="string").to_polars()

        def with_openpyxl():
            workbook = openpyxl.load_workbook(book_path, read_only=True, data_only=True)
            values = list(workbook.worksheets[0].iter_rows(values_only=True))
            pl.DataFrame([[None if v is None else str(v) for v in row] for row in values[1:]],
                         schema=dict.fromkeys(map(str, values[0]), pl.String), orient="row")
            workbook.close()

        fast = statistics.median(timed(with_fastexcel) for _ in range(3))
        slow = statistics.median(timed(with_openpyxl) for _ in range(3))
        print(f"{rows:,} customers, {book_path.stat().st_size / 1e6:.1f} MB workbook")
        print(f"fastexcel {fast:.2f} s, openpyxl {slow:.2f} s: openpyxl / fastexcel {slow / fast:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
