"""Restoration strength and how degraded an input looks (strength=auto)."""
