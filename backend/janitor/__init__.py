"""The one janitor and its sweeps: retention, stuck jobs, dead uploads, leases."""
