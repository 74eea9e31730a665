"""`audience init`: a commented campaign config with every key, a starting point to edit.

The file names and dates are those `audience sample` writes, so the config builds as it is
against a sample data set in the same folder; every optional key is shown, commented out, with
its default.
"""
from __future__ import annotations

from pathlib import Path

from .errors import UsageError
from .files import cannot_write, created_folder, write_file
from .sample import AS_OF, LIST_DATE

CONFIG_NAME = "campaign.toml"

TEMPLATE = """\
# A campaign for `audience build`. Written by `audience init`; every key is listed, the optional
# ones commented out with their default. Relative paths are relative to this file's folder.
# The file names and dates match `audience sample`: `audience sample DIR` and then
# `audience init DIR --force` give a config that builds as it is.

[campaign]
name = "my-campaign"                 # required: letters, digits, . _ -
purpose = "marketing"                # required: marketing | service | survey | contract | legal
# product_group = "pension"          # default: none; its active holders count as existing
                                     # customers (no_consent) and, for contract and legal
                                     # letters, are the only ones written to (no_active_contract)
channels = ["email", "sms", "phone", "post", "social"]   # required: a non-empty subset
# segments = ["private", "business"] # default: both
# business_roles = []                # default: none; business contacts in these roles (no_consent's
                                     # B2B exception)
as_of = {as_of}                   # default: now, Europe/Helsinki; delete to decide as of today
# holdout_percent = 0                # 0..100, may be fractional: a control group kept out (control_group)
# dedupe = true                      # one message per e-mail, phone or postal address (duplicate_contact)
# minimum_age = 15                   # 0..120; no marketing to anyone younger (under_age); 0 turns it off

[inputs]
customers = "customers.csv"          # required; any input or list path may also be
                                     # {{ path = "export.csv", encoding = "cp1252" }},
                                     # {{ path = "crm.xlsx", sheet = "Asiakkaat" }} or
                                     # {{ query = "SELECT ...", uri_env = "CRM_DB_URI" }}
consents = "consents.csv"            # required (may be a header only)
# holdings = "holdings.csv"          # default: none; needed by product_group
# contact_history = "contact_history.csv"   # default: none; required by [[pressure]]

# Suppression lists: zero or more. Defaults by kind: internal on every channel, no age limit;
# robinson and telemarketing on phone and post, list_date required, at most 30 days old.
[[suppressions]]
name = "internal-prohibitions"       # required, unique
kind = "internal"                    # required: internal | robinson | telemarketing | custom
path = "internal.csv"                # required
# list_date = 2026-11-20             # the day the list was extracted; default: none
# channels = ["email", "sms", "phone", "post", "social"]   # default: by kind
# purposes = ["marketing"]           # default: ["marketing"]; any of marketing, service, survey
# max_age_days = 30                  # default: by kind (none for internal and custom)

[[suppressions]]
name = "robinson"
kind = "robinson"
path = "robinson.csv"
list_date = {list_date}

[[suppressions]]
name = "telemarketing"
kind = "telemarketing"
path = "telemarketing.csv"
list_date = {list_date}

# Contact-pressure caps (contact_pressure): zero or more; each needs [inputs].contact_history.
# [[pressure]]
# name = "marketing-monthly"         # required, unique
# max_contacts = 4                   # required, 1 or more
# window_days = 30                   # required, 1 or more
# channels = ["email", "sms", "phone", "post", "social"]   # default: all five
# purposes = ["marketing"]           # default: ["marketing"]; any of marketing, service, survey
# same_campaign = false              # true: count only earlier contacts of this campaign

# One channel per person (channel_arbitration): the first of these channels the customer can be
# sent on.
# [arbitration]
# order = ["email", "sms", "post", "phone"]   # required in the table: campaign channels, no repeats

[output]
# dir = "out/my-campaign"            # default: out/<campaign.name>
# format = "csv"                     # csv | parquet
# audiences = []                     # platform upload files of social: meta, google, linkedin, tiktok, snapchat
"""


def campaign_template() -> str:
    """The text `audience init` writes."""
    return TEMPLATE.format(as_of=AS_OF.isoformat(), list_date=LIST_DATE.isoformat())


def write_init(directory: Path, *, force: bool = False) -> Path:
    """Write DIR/campaign.toml (DIR created when missing); an existing one only with `force`.
    The file appears whole or not at all; a write that fails raises OutputError (exit 5)."""
    target = directory / CONFIG_NAME
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to replace it")
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a folder")
    with cannot_write(directory), created_folder(directory):
        return write_file(target, campaign_template().encode("utf-8"), mode=0o644)
