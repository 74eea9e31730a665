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
