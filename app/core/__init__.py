"""Dependency-free building blocks shared by every layer."""
