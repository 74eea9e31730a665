"""The customers file (contract section 3): one row per customer, sorted by customer_id."""
from __future__ import annotations

import polars as pl

from ..config import FileSpec
from ..datetimes import parse_date
from ..errors import ProblemLog
from ..normalize import by_distinct
from .checks import RowChecks, parse_bool, parsed_columns, require_columns
from .readers import LINE, Loaded, RawTable, RowFilter, clean_text, read_table

CUSTOMER_COLUMNS = (
    "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
    "street_address", "postal_code", "city", "country", "language", "birth_date", "deceased_date",
    "paperless", "business_role", "address_protected",
)
# Trimmed by their readers (_tidy): the dates and booleans by their parsers, the columns of few
# distinct values once per distinct value (by_distinct), the email by its normalization (email_values).
CUSTOMER_PARSED = ("birth_date", "deceased_date", "paperless", "address_protected", "customer_type", "country", "language", "business_role",
                   "email")


def _language(value: pl.Expr) -> pl.Expr:
    """A two-letter language code as it is; any other value means Finnish."""
    return pl.when(value.str.contains(r"^\p{L}{2}$")).then(value).otherwise(pl.lit("fi"))


def load_customers(spec: FileSpec, problems: ProblemLog, only: RowFilter | None = None) -> Loaded | None:
    """The customers (those `only` keeps: see readers.RowFilter), parsed, checked, sorted by id."""
    table = read_table(spec, CUSTOMER_COLUMNS, problems, trimmed_by_parser=CUSTOMER_PARSED, only=only)
    if table is None or not require_columns(table, ("customer_id", "customer_type"), problems):
        return None
    frame = table.frame.with_columns(
        *parsed_columns(table.frame, {"birth_date": ("birth_date_parsed", parse_date),
                                      "deceased_date": ("deceased_date_parsed", parse_date),
                                      "paperless": ("paperless_parsed", parse_bool),
                                      "address_protected": ("address_protected_parsed", parse_bool)}),
        # Categorical, as contact_frame keeps them (FEW_VALUES), but the country, which phones read as text.
        *by_distinct(table.frame.get_column("customer_type"),
                     customer_type=clean_text("v").str.to_lowercase().cast(pl.Categorical)),
        *by_distinct(table.frame.get_column("country"), country=clean_text("v").str.to_uppercase(),
                     country_malformed=~clean_text("v").str.to_uppercase().str.contains(r"^[A-Z]{2}$")),
        *by_distinct(table.frame.get_column("language"),
                     language=_language(clean_text("v").str.to_lowercase()).cast(pl.Categorical)),
        *by_distinct(table.frame.get_column("business_role"),
                     business_role=clean_text("v").str.to_lowercase().cast(pl.Categorical)),
    )
    # Every output is in customer order. Exports usually come sorted by id: then the check is all
    # it costs (sorting copies every column: 4 GB at 10M customers).
    if not frame.get_column("customer_id").is_sorted():
        frame = frame.sort("customer_id")
    checks = RowChecks(RawTable(table.label, frame, table.sha256, table.columns_found, table.unknown_columns))
    checks.add(pl.col("customer_id").is_null(), "customer_id", "customer_id is missing")
    same_as_neighbour = pl.col("customer_id").eq(pl.col("customer_id").shift(1)) \
        | pl.col("customer_id").eq(pl.col("customer_id").shift(-1))
    duplicated = pl.col("customer_id").is_not_null() & same_as_neighbour  # sorted by id: duplicates are adjacent
    checks.add(duplicated, "customer_id", "duplicate customer_id")
    checks.add(pl.col("customer_type").is_null(), "customer_type",
                "customer_type is missing; expected private or business")
    checks.add(pl.col("customer_type").is_not_null() & ~pl.col("customer_type").is_in(["private", "business"]),
                "customer_type", "expected private or business")
    for name in ("birth_date", "deceased_date"):
        checks.add(pl.col(name).is_not_null() & pl.col(f"{name}_parsed").is_null(), name,
                    "not a date (expected 2026-12-01 or 1.12.2026)")
    for name in ("paperless", "address_protected"):
        checks.add(pl.col(f"{name}_parsed").is_null(), name,
                    "not a boolean (expected true/false, 1/0, yes/no, y/n, kyllä/ei, ja/nej)")
    checks.add(pl.col("country_malformed").fill_null(False), "country", "expected a two-letter ISO 3166-1 country code")
    checks.report(problems)
    frame = frame.select(
        "customer_id", "customer_type", "first_name", "last_name", "company_name", "email", "phone",
        "street_address", "postal_code", "city",
        pl.col("country").fill_null("FI"),
        pl.col("language").fill_null("fi"),
        pl.col("birth_date_parsed").alias("birth_date"),
        pl.col("deceased_date_parsed").alias("deceased_date"),
        pl.col("paperless_parsed").alias("paperless"),
        "business_role",
        pl.col("address_protected_parsed").alias("address_protected"),
        LINE,
    )
    return Loaded(table.label, frame, table.sha256, frame.height, table.unknown_columns)
