"""Customers kept across incidents: the directory, direct delivery of updates, contact clocks."""
