"""The smallest end-to-end build: every customer decided once per channel."""
from conftest import customer


def test_build_decides_every_customer_once_per_channel(campaign):
    campaign.customers = [customer("C1"), customer("C2", email="", phone="")]
    campaign.consents = [{"customer_id": "C1", "channel": "all", "purpose": "marketing",
                          "status": "granted", "recorded_at": "2026-01-01T10:00:00", "source": "web"}]
    run = campaign.build()
    assert run.exit_code == 0, run.stderr
    for channel in ("email", "sms", "phone", "post", "social"):
        decided = set(run.sendable(channel)) | set(run.excluded(channel))
        assert decided == {"C1", "C2"}
        assert not set(run.sendable(channel)) & set(run.excluded(channel))
    assert run.sendable("email") == {"C1": "consent"}
    assert run.reason("C2", "email") == "missing_contact"


def test_build_result_decisions_agree_with_the_written_files():
    """`BuildResult.decisions` (one frame for callers of the Python API) says what the files say."""
    from pathlib import Path

    import polars as pl

    from audiencecli.config import load_config
    from audiencecli.pipeline import build

    config = load_config(Path(__file__).parent.parent / "sample_data" / "campaign.toml")
    result = build(config)
    decisions = result.decisions
    assert decisions.height == result.contacts.height * len(config.channels)
    excluded = decisions.filter(pl.col("reason_code").is_not_null()).drop("legal_basis")
    assert excluded.sort("customer_id", "channel").equals(result.exclusions.sort("customer_id", "channel"))
    for channel in config.channels:
        sendable = decisions.filter(pl.col("channel") == channel, pl.col("legal_basis").is_not_null())
        table = result.channel_table(channel)
        assert sendable.sort("customer_id").select("customer_id", "legal_basis").equals(
            table.select("customer_id", "legal_basis"))
