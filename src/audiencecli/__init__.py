"""audiencecli: who may be contacted, on which channel, for a campaign, and why."""

__version__ = "0.1.0"
