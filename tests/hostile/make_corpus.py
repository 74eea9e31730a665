"""Writes the hostile-input corpus beside this file: `python tests/hostile/make_corpus.py`.

The files are committed; this script only documents how each was made. Each is a customers file
broken in one way (README.md lists what `audience build` answers to each).
"""
from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
HEADER = b"customer_id,customer_type,first_name,last_name,email,phone,street_address,postal_code,city\n"
ROW1 = b"C1,private,Aino,Virtanen,aino@example.fi,040 123 4567,Mannerheimintie 1,00100,Helsinki\n"
ROW2 = b"C2,business,Bo,Korhonen,bo@example.fi,050 765 4321,Kauppakatu 2,20100,Turku\n"


def parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


GOOD = pl.DataFrame({"customer_id": ["C1", "C2"], "customer_type": ["private", "business"],
                     "email": ["aino@example.fi", "bo@example.fi"]})

CORPUS = {
    "truncated_row.csv": HEADER + ROW1 + ROW2[:6],
    "truncated_in_quotes.csv": HEADER + ROW1 + b'C2,business,"Bo',
    "wrong_delimiter.csv": HEADER.replace(b",", b"|") + ROW1.replace(b",", b"|"),
    "wrong_encoding_cp1252.csv": HEADER + ROW1 + ROW2.replace(b"Bo,", "Börje,".encode("cp1252")),
    "wrong_encoding_utf16.csv": (HEADER + ROW1).decode("utf-8").encode("utf-16"),
    "binary_noise.csv": bytes(random.Random(5).randrange(256) for _ in range(512)),
    "gzipped.csv": gzip.compress(HEADER + ROW1, mtime=0),
    "missing_header.csv": ROW1 + ROW2,
    "duplicate_headers.csv": HEADER.replace(b",city", b",Email") + ROW1,
    "unbalanced_quotes.csv": HEADER + ROW1 + b'C2,business,"Bo,Korhonen,bo@example.fi,,,,\n'
    + ROW2.replace(b"C2", b"C3"),
    "too_many_fields.csv": HEADER + ROW1 + ROW2.replace(b"\n", b",extra,fields\n"),
    "quote_in_header.csv": b'"' + HEADER + ROW1,
    "empty.csv": b"",
    "bom_only.csv": b"\xef\xbb\xbf",
    "blank_first_line.csv": b"\n" + HEADER + ROW1,
    "header_only.csv": HEADER,
    "nul_bytes.csv": HEADER + ROW1 + ROW2.replace(b"Bo", b"B\x00o"),
    "cr_line_ends.csv": (HEADER + ROW1).replace(b"\n", b"\r"),
    "not_parquet.parquet": HEADER + ROW1,
    "truncated.parquet": parquet(GOOD)[:-40],
    "list_column.parquet": parquet(GOOD.with_columns(email=pl.Series([["a@example.fi"], []]))),
    "integer_date.parquet": parquet(GOOD.with_columns(deceased_date=pl.Series([None, 20261201]))),
    "boolean_customer_type.parquet": parquet(GOOD.with_columns(customer_type=pl.Series([True, False]))),
    "null_column.parquet": parquet(GOOD.with_columns(business_role=pl.lit(None))),
    "nested_extra_column.parquet": parquet(GOOD.with_columns(tags=pl.Series([["vip"], []]))),
}

if __name__ == "__main__":
    for name, data in CORPUS.items():
        (HERE / name).write_bytes(data)
