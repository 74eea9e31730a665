"""The inputs of the contract (section 3), one module per input, over the format readers.

Each source module declares its columns (`*_COLUMNS`), which are required, and how each column
is parsed and checked; `readers` turns a file into trimmed text columns with their line numbers,
`checks` counts and lists the problems. A new input is a new module here.
"""
from .consents import CONSENT_CHANNEL_TYPE, CONSENT_COLUMNS, CONSENT_PURPOSE_TYPE, CONSENT_STATUS_TYPE, load_consents
from .customers import CUSTOMER_COLUMNS, load_customers
from .history import HISTORY_COLUMNS, History, counted_by, load_history
from .holdings import HOLDING_COLUMNS, load_holdings
from .lists import LIST_COLUMNS, LIST_KEY_COLUMNS, NAME_ADDRESS_COLUMNS, load_list
from .readers import LINE, Loaded, file_label

__all__ = [
    "CONSENT_CHANNEL_TYPE", "CONSENT_COLUMNS", "CONSENT_PURPOSE_TYPE", "CONSENT_STATUS_TYPE", "CUSTOMER_COLUMNS",
    "HISTORY_COLUMNS", "HOLDING_COLUMNS", "History", "LINE", "LIST_COLUMNS", "LIST_KEY_COLUMNS", "Loaded", "NAME_ADDRESS_COLUMNS", "file_label",
    "counted_by", "load_consents", "load_customers", "load_history", "load_holdings", "load_list",
]
